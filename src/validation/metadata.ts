/**
 * The `metadata` part of a Cloudflare-style upload: main module or body part, bindings, compatibility
 * date, limits and routes. Every problem is an ISO_ERR_DEPLOY_* error that names the field.
 */
import { IsolaneError } from '../errors.ts';
import { parseAllowEntry } from '../outbound/egress-policy.ts';
import { STORAGE_ID } from './storage-id.ts';
import { isWorkerName } from '../store/worker-name.ts';
import { DEFAULT_LIMITS, MAX_LIMITS, type Binding, type Limits } from '../types.ts';

export interface Metadata {
  mainModule: string | null;
  bodyPart: string | null;
  bindings: Binding[];
  compatibilityDate: string | null;
  compatibilityFlags: string[];
  limits: Limits;
  fetchAllow: string[];
  routes: string[] | null;
}

const MAX_BINDINGS = 128;
const MAX_BINDING_BYTES = 5 * 1024;
/** Levels of arrays and objects a json binding may nest. */
const MAX_JSON_BINDING_DEPTH = 100;
const MAX_JSON_BINDING_BYTES = 64 * 1024;
const BINDING_NAME = /^[A-Za-z_$][A-Za-z0-9_$]{0,127}$/;
const LIMIT_FIELDS = {
  cpu_ms: 'cpuMs',
  memory_mb: 'memoryMb',
  wall_ms: 'wallMs',
  concurrency: 'concurrency',
  request_bytes: 'requestBytes',
  response_bytes: 'responseBytes',
} as const;
const MIN_LIMITS: Limits = { cpuMs: 1, memoryMb: 8, wallMs: 10, concurrency: 1, requestBytes: 0, responseBytes: 0 };

function bad(message: string): IsolaneError {
  return new IsolaneError('ISO_ERR_DEPLOY_METADATA', message);
}

export function parseMetadata(text: string): Metadata {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw bad(`metadata is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw bad('metadata must be a JSON object');
  const m = raw as Record<string, unknown>;
  const mainModule = optionalString(m, 'main_module');
  const bodyPart = optionalString(m, 'body_part');
  if (mainModule && bodyPart) throw bad('give either main_module (module syntax) or body_part (service-worker syntax), not both');
  if (!mainModule && !bodyPart) throw bad('main_module (or body_part for service-worker syntax) is required');
  const compatibilityDate = optionalString(m, 'compatibility_date');
  if (compatibilityDate !== null && !isPastCalendarDate(compatibilityDate)) throw bad('compatibility_date must be a date like 2024-09-23, not in the future');
  return {
    mainModule,
    bodyPart,
    bindings: parseBindings(m.bindings),
    compatibilityDate,
    compatibilityFlags: parseCompatibilityFlags(m.compatibility_flags),
    limits: parseLimits(m.limits),
    routes: parseRoutes(m.routes),
    fetchAllow: parseFetchAllow(m.fetch_allow),
  };
}

const MAX_COMPATIBILITY_FLAGS = 64;
/** Cloudflare's flag names: lower case words joined by underscores. */
const COMPATIBILITY_FLAG = /^[a-z0-9]+(?:_[a-z0-9]+)*$/;

/**
 * Any well-formed flag is kept (wrangler sends the project's list as it is); only nodejs_compat and
 * nodejs_compat_v2 change anything here. Duplicates are dropped, the order kept.
 */
function parseCompatibilityFlags(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.length > MAX_COMPATIBILITY_FLAGS) throw bad(`compatibility_flags must be an array of at most ${MAX_COMPATIBILITY_FLAGS} flag names`);
  const flags: string[] = [];
  value.forEach((flag: unknown, i) => {
    if (typeof flag !== 'string' || flag.length > 64 || !COMPATIBILITY_FLAG.test(flag)) {
      throw bad(`compatibility_flags[${i}] must be a flag name such as "nodejs_compat" (lower case letters, digits and underscores)`);
    }
    if (!flags.includes(flag)) flags.push(flag);
  });
  return flags;
}

const MAX_FETCH_ALLOW = 100;
function parseFetchAllow(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.length > MAX_FETCH_ALLOW) throw bad(`fetch_allow must be an array of at most ${MAX_FETCH_ALLOW} host names or IP addresses`);
  return value.map((entry: unknown, i) => {
    if (typeof entry !== 'string' || parseAllowEntry(entry) === null) {
      throw bad(`fetch_allow[${i}] must be a host name or an IP address, with an optional :port`);
    }
    return entry.toLowerCase();
  });
}

function optionalString(m: Record<string, unknown>, key: string): string | null {
  const value = m[key];
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string' || value.length === 0) throw bad(`${key} must be a non-empty string`);
  return value;
}

export function parseBindings(value: unknown): Binding[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new IsolaneError('ISO_ERR_DEPLOY_BINDING', 'bindings must be an array');
  if (value.length > MAX_BINDINGS) throw new IsolaneError('ISO_ERR_DEPLOY_BINDING', `at most ${MAX_BINDINGS} bindings`);
  const names = new Set<string>();
  return value.map((entry: unknown, i): Binding => {
    const fail = (why: string) => new IsolaneError('ISO_ERR_DEPLOY_BINDING', `bindings[${i}]: ${why}`);
    if (typeof entry !== 'object' || entry === null) throw fail('must be an object');
    const b = entry as Record<string, unknown>;
    if (typeof b.name !== 'string' || !BINDING_NAME.test(b.name)) throw fail('name must be a JavaScript identifier');
    if (names.has(b.name)) throw fail(`duplicate binding name ${b.name}`);
    names.add(b.name);
    switch (b.type) {
      case 'plain_text':
      case 'secret_text':
        if (typeof b.text !== 'string') throw fail(`${b.type} needs a "text" string`);
        if (Buffer.byteLength(b.text) > MAX_BINDING_BYTES) throw fail(`text is larger than ${MAX_BINDING_BYTES} bytes`);
        return { type: b.type, name: b.name, text: b.text };
      case 'json':
        if (!('json' in b)) throw fail('json binding needs a "json" value');
        if (nestingDepth(b.json) > MAX_JSON_BINDING_DEPTH) throw fail(`json nests deeper than ${MAX_JSON_BINDING_DEPTH} levels`);
        if (JSON.stringify(b.json).length > MAX_JSON_BINDING_BYTES) throw fail(`json is larger than ${MAX_JSON_BINDING_BYTES} bytes`);
        return { type: 'json', name: b.name, json: b.json };
      case 'kv_namespace':
        if (typeof b.namespace_id !== 'string' || !STORAGE_ID.test(b.namespace_id)) throw fail('kv_namespace needs a "namespace_id" of 1 to 64 letters, digits, - or _');
        return { type: 'kv_namespace', name: b.name, namespaceId: b.namespace_id };
      case 'd1':
        // Cloudflare's upload metadata names the database `id` (wrangler's database_id).
        if (typeof b.id !== 'string' || !STORAGE_ID.test(b.id)) throw fail('d1 needs an "id" of 1 to 64 letters, digits, - or _');
        return { type: 'd1', name: b.name, databaseId: b.id };
      case 'service':
        if (!isWorkerName(b.service)) throw fail('service needs a "service": the name of a worker');
        if (b.entrypoint !== undefined) throw fail('named entrypoints of a service are not supported: bind the default one');
        return { type: 'service', name: b.name, service: b.service };
      default:
        throw fail(`unknown binding type ${JSON.stringify(b.type)} (supported: plain_text, secret_text, json, kv_namespace, d1, service)`);
    }
  });
}

export function parseLimits(value: unknown): Limits {
  if (value === undefined || value === null) return { ...DEFAULT_LIMITS };
  if (typeof value !== 'object' || Array.isArray(value)) throw new IsolaneError('ISO_ERR_DEPLOY_LIMITS', 'limits must be an object');
  const limits: Limits = { ...DEFAULT_LIMITS };
  for (const [field, v] of Object.entries(value as Record<string, unknown>)) {
    const key = Object.hasOwn(LIMIT_FIELDS, field) ? LIMIT_FIELDS[field as keyof typeof LIMIT_FIELDS] : undefined;
    if (!key) throw new IsolaneError('ISO_ERR_DEPLOY_LIMITS', `unknown limit ${field} (supported: ${Object.keys(LIMIT_FIELDS).join(', ')})`);
    if (typeof v !== 'number' || !Number.isInteger(v) || v < MIN_LIMITS[key] || v > MAX_LIMITS[key]) {
      throw new IsolaneError('ISO_ERR_DEPLOY_LIMITS', `limits.${field} must be an integer from ${MIN_LIMITS[key]} to ${MAX_LIMITS[key]}`);
    }
    limits[key] = v;
  }
  return limits;
}

/**
 * A deploy's routes are checked and written together, and every serving process rebuilds its routing
 * table from them: 2,000 took a deploy 16 s and another worker's p99 7.7 → 68 ms meanwhile.
 */
const MAX_ROUTES = 100;

function parseRoutes(value: unknown): string[] | null {
  if (value === undefined || value === null) return null;
  if (!Array.isArray(value)) throw bad('routes must be an array of patterns');
  if (value.length > MAX_ROUTES) throw bad(`routes may hold at most ${MAX_ROUTES} patterns (${value.length} given)`);
  return value.map((r: unknown, i) => {
    const pattern = typeof r === 'string' ? r : typeof r === 'object' && r !== null ? (r as { pattern?: unknown }).pattern : undefined;
    if (typeof pattern !== 'string') throw bad(`routes[${i}] must be a pattern string or {"pattern": "..."}`);
    return pattern;
  });
}

/**
 * A real calendar date (YYYY-MM-DD) no later than tomorrow in UTC, as Cloudflare accepts them: a date far
 * in the future would turn on every behaviour gated by date (nodejs_compat's, process.env's).
 */
function isPastCalendarDate(text: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) return false;
  const date = new Date(`${text}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === text && date.getTime() <= Date.now() + 86_400_000;
}

/**
 * How deeply `value` nests arrays and objects, counted without recursion. Serialising a value nested
 * thousands deep overflows the stack (a 500); such a binding is refused with a 400 instead.
 */
function nestingDepth(value: unknown): number {
  let deepest = 0;
  const pending: [unknown, number][] = [[value, 0]];
  while (pending.length > 0) {
    const [item, depth] = pending.pop()!;
    if (item === null || typeof item !== 'object') continue;
    deepest = Math.max(deepest, depth + 1);
    if (deepest > MAX_JSON_BINDING_DEPTH) return deepest;
    for (const child of Object.values(item)) pending.push([child, depth + 1]);
  }
  return deepest;
}
