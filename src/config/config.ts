/**
 * Server configuration, read and validated once at start: environment variables, overridden by the same
 * names as CLI flags (`ISOLANE_PORT=9000` or `--port 9000`).
 */
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { IsolaneError } from '../errors.ts';
import { parseAllowEntry } from '../outbound/egress-policy.ts';

export interface Config {
  port: number;
  adminPort: number;
  host: string;
  dataDir: string;
  /** null: generate one on first start and keep it in the data directory. */
  adminToken: string | null;
  /** Workers answer at `<name>.<workersDomain>`; null turns that off. */
  workersDomain: string | null;
  executors: number;
  recycleRssMb: number;
  recycleRequests: number;
  hungAfterMs: number;
  maxIsolates: number;
  maxIsolateMemoryMb: number;
  idleMs: number;
  idleGcMs: number;
  d1QueryTimeoutMs: number;
  d1MaxDatabaseMb: number;
  maxScriptBytes: number;
  maxRequestBytes: number;
  headersTimeoutMs: number;
  sendStallMs: number;
  /** `stdout` or `none`. */
  log: 'stdout' | 'none';
  /** Where compiled code caches are kept: this process's memory only, or also the data dir (code-cache/). */
  codeCache: 'memory' | 'disk';
  /** Host names and addresses on the host's own network that workers' fetch may reach anyway. */
  fetchAllow: string[];
}

interface Setting {
  env: string;
  flag: string;
  parse: (text: string) => unknown;
  key: keyof Config;
  help: string;
}

const int = (min: number, max: number) => (text: string) => {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`expected an integer from ${min} to ${max}`);
  return n;
};
const text = (value: string) => value;
const parseFetchAllow = (value: string) =>
  value.split(',').map((entry) => entry.trim().toLowerCase()).filter(Boolean).map((entry) => {
    if (parseAllowEntry(entry) === null) throw new Error(`${entry}: expected a host name or an IP address, with an optional :port`);
    return entry;
  });
const workersDomain = (value: string) => {
  if (value === '' || value === 'none') return null;
  if (!/^[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?$/i.test(value) || value.includes('..')) throw new Error('expected a domain such as localhost or workers.example.com (no port), or none');
  return value.toLowerCase();
};

export const SETTINGS: Setting[] = [
  { env: 'ISOLANE_PORT', flag: 'port', key: 'port', parse: int(0, 65535), help: 'data plane port (default 8080)' },
  { env: 'ISOLANE_ADMIN_PORT', flag: 'admin-port', key: 'adminPort', parse: int(0, 65535), help: 'admin API port (default 8081)' },
  { env: 'ISOLANE_HOST', flag: 'host', key: 'host', parse: text, help: 'bind address of both ports (default 127.0.0.1)' },
  { env: 'ISOLANE_DATA_DIR', flag: 'data-dir', key: 'dataDir', parse: (v) => resolve(v), help: 'where workers, versions and routes are stored (default ./data)' },
  { env: 'ISOLANE_ADMIN_TOKEN', flag: 'admin-token', key: 'adminToken', parse: text, help: 'bearer token of the admin API (default: generated on first start, kept in the data dir)' },
  { env: 'ISOLANE_WORKERS_DOMAIN', flag: 'workers-domain', key: 'workersDomain', parse: workersDomain, help: 'every worker answers at <name>.<domain> (default localhost; "none" turns it off)' },
  { env: 'ISOLANE_EXECUTORS', flag: 'executors', key: 'executors', parse: int(1, 256), help: 'serving processes, each with its own HTTP server and isolates (default: one per core)' },
  { env: 'ISOLANE_RECYCLE_RSS_MB', flag: 'recycle-rss-mb', key: 'recycleRssMb', parse: int(0, 1_000_000), help: 'replace a serving process whose resident memory passes this (default 4096; 0: never)' },
  { env: 'ISOLANE_RECYCLE_REQUESTS', flag: 'recycle-requests', key: 'recycleRequests', parse: int(0, 2 ** 40), help: 'replace a serving process after this many requests (default 0: never)' },
  { env: 'ISOLANE_HUNG_AFTER_MS', flag: 'hung-after-ms', key: 'hungAfterMs', parse: int(1000, 3_600_000), help: 'replace a serving process that has not reported for this long: its thread is stuck (default 15000)' },
  { env: 'ISOLANE_MAX_ISOLATES', flag: 'max-isolates', key: 'maxIsolates', parse: int(1, 1_000_000), help: 'warm isolates kept, all threads together (default 10000)' },
  { env: 'ISOLANE_MAX_ISOLATE_MEMORY_MB', flag: 'max-isolate-memory-mb', key: 'maxIsolateMemoryMb', parse: int(16, 1_000_000), help: 'heap of all warm isolates together (default 8192)' },
  { env: 'ISOLANE_IDLE_MS', flag: 'idle-ms', key: 'idleMs', parse: int(1000, 86_400_000), help: 'an isolate unused this long is disposed (default 300000)' },
  { env: 'ISOLANE_IDLE_GC_MS', flag: 'idle-gc-ms', key: 'idleGcMs', parse: int(0, 86_400_000), help: 'a warm isolate unused this long gets a garbage collection that gives its spare memory back, and its version\'s code cache is remade once after its first request (default 10000; 0: never)' },
  { env: 'ISOLANE_D1_QUERY_TIMEOUT_MS', flag: 'd1-query-timeout-ms', key: 'd1QueryTimeoutMs', parse: int(100, 600_000), help: 'a D1 query running longer is stopped (default 30000, as on D1)' },
  { env: 'ISOLANE_D1_MAX_DATABASE_MB', flag: 'd1-max-database-mb', key: 'd1MaxDatabaseMb', parse: int(1, 1_000_000), help: 'size on disk a D1 database may reach (default 1024)' },
  { env: 'ISOLANE_MAX_SCRIPT_BYTES', flag: 'max-script-bytes', key: 'maxScriptBytes', parse: int(1024, 1 << 30), help: 'largest upload (default 10 MiB)' },
  { env: 'ISOLANE_MAX_REQUEST_BYTES', flag: 'max-request-bytes', key: 'maxRequestBytes', parse: int(0, 1 << 30), help: 'largest request body (default 32 MiB)' },
  { env: 'ISOLANE_HEADERS_TIMEOUT_MS', flag: 'headers-timeout-ms', key: 'headersTimeoutMs', parse: int(100, 600_000), help: 'time a client has to send its request headers; slower ones get 408 (default 60000)' },
  { env: 'ISOLANE_SEND_STALL_MS', flag: 'send-stall-ms', key: 'sendStallMs', parse: int(100, 600_000), help: 'a client that takes none of a response for this long has its connection closed (default 30000)' },
  { env: 'ISOLANE_FETCH_ALLOW', flag: 'fetch-allow', key: 'fetchAllow', parse: parseFetchAllow, help: "comma-separated hosts or addresses on the host's own network that workers' fetch may reach, each with an optional :port (default none)" },
  { env: 'ISOLANE_CODE_CACHE', flag: 'code-cache', key: 'codeCache', parse: (v) => { if (v !== 'memory' && v !== 'disk') throw new Error('expected memory or disk'); return v; }, help: "V8's compiled code of live versions: memory (each thread its own) or disk (also in the data dir's code-cache/, for other processes and restarts) (default disk)" },
  { env: 'ISOLANE_LOG', flag: 'log', key: 'log', parse: (v) => { if (v !== 'stdout' && v !== 'none') throw new Error('expected stdout or none'); return v; }, help: 'structured log destination: stdout or none (default stdout)' },
];

export function defaultConfig(): Config {
  return {
    port: 8080,
    adminPort: 8081,
    host: '127.0.0.1',
    dataDir: resolve('data'),
    adminToken: null,
    workersDomain: 'localhost',
    executors: Math.max(1, availableParallelism()),
    recycleRssMb: 4096,
    recycleRequests: 0,
    hungAfterMs: 15_000,
    maxIsolates: 10_000,
    maxIsolateMemoryMb: 8192,
    idleMs: 300_000,
    idleGcMs: 10_000,
    d1QueryTimeoutMs: 30_000,
    d1MaxDatabaseMb: 1024,
    maxScriptBytes: 10 * 1024 * 1024,
    maxRequestBytes: 32 * 1024 * 1024,
    headersTimeoutMs: 60_000,
    sendStallMs: 30_000,
    log: 'stdout',
    codeCache: 'disk',
    fetchAllow: [],
  };
}

/** Defaults, then the environment, then `--flag value` / `--flag=value` arguments. */
export function loadConfig(env: NodeJS.ProcessEnv, args: string[]): Config {
  const config = defaultConfig() as unknown as Record<string, unknown>;
  const apply = (setting: Setting, value: string, source: string) => {
    try {
      config[setting.key] = setting.parse(value);
    } catch (err) {
      throw new IsolaneError('ISO_ERR_CONFIG_INVALID', `${source}: ${(err as Error).message}`);
    }
  };
  for (const setting of SETTINGS) {
    const value = env[setting.env];
    if (value !== undefined) apply(setting, value, setting.env);
  }
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (!arg.startsWith('--')) throw new IsolaneError('ISO_ERR_CONFIG_INVALID', `unexpected argument ${arg}`);
    const eq = arg.indexOf('=');
    const flag = arg.slice(2, eq === -1 ? undefined : eq);
    const setting = SETTINGS.find((s) => s.flag === flag);
    if (!setting) throw new IsolaneError('ISO_ERR_CONFIG_INVALID', `unknown option --${flag}`);
    const value = eq === -1 ? args[++i] : arg.slice(eq + 1);
    if (value === undefined) throw new IsolaneError('ISO_ERR_CONFIG_INVALID', `--${flag} needs a value`);
    apply(setting, value, `--${flag}`);
  }
  return config as unknown as Config;
}
