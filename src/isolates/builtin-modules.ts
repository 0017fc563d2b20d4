/**
 * Modules a worker imports by name, as on Workers: `cloudflare:workers` always, and Node.js built-in
 * modules with the `nodejs_compat` (or `nodejs_compat_v2`) compatibility flag or a compatibility date from
 * 2026-08-04 on (`import { Buffer } from 'node:buffer'`, or `from 'buffer'`; `nodejs_als` allows
 * node:async_hooks alone). The link of such an import is a module of a few lines made here, which takes
 * the exports from the runtime (runtime/builtin-modules.ts); its export names are listed here because a
 * module's exports are fixed when it is compiled. Any other `node:` or `cloudflare:`
 * module is a deploy error that names what is there.
 */
import { IsolaneError } from '../errors.ts';
import type { Version } from '../types.ts';
import { STUB_MODULES, type StubModule } from './node-stub-modules.ts';

/** node:assert's and node:assert/strict's: the same names, the latter's `equal`s being the strict ones. */
const ASSERT_EXPORTS = ['AssertionError', 'ok', 'equal', 'notEqual', 'strictEqual', 'notStrictEqual', 'deepEqual', 'notDeepEqual', 'deepStrictEqual', 'notDeepStrictEqual', 'throws', 'doesNotThrow', 'rejects', 'match', 'doesNotMatch', 'fail', 'ifError', 'strict'];

function stubExportNames(stub: StubModule): string[] {
  return [...(stub.functions ?? []), ...Object.keys(stub.values ?? {}), ...Object.keys(stub.modules ?? {}), ...Object.keys(stub.returns ?? {}), ...(stub.runtime ?? [])];
}

/** Each module's named exports (besides `default`), as runtime/builtin-modules.ts makes them. */
export const BUILTIN_EXPORTS: Readonly<Record<string, readonly string[]>> = {
  'cloudflare:workers': ['WorkerEntrypoint', 'DurableObject', 'RpcTarget', 'env'],
  'node:assert': ASSERT_EXPORTS,
  'node:assert/strict': ASSERT_EXPORTS,
  'node:async_hooks': ['AsyncLocalStorage', 'AsyncResource'],
  'node:buffer': ['Buffer', 'SlowBuffer', 'INSPECT_MAX_BYTES', 'kMaxLength', 'kStringMaxLength', 'constants', 'atob', 'btoa', 'isAscii', 'isUtf8', 'Blob', 'File'],
  'node:crypto': ['createHash', 'createHmac', 'getHashes', 'randomBytes', 'randomInt', 'randomUUID', 'getRandomValues', 'timingSafeEqual', 'webcrypto', 'subtle'],
  'node:diagnostics_channel': ['channel', 'hasSubscribers', 'subscribe', 'unsubscribe', 'tracingChannel', 'Channel'],
  'node:events': ['EventEmitter', 'once', 'listenerCount', 'defaultMaxListeners'],
  'node:path': ['basename', 'delimiter', 'dirname', 'extname', 'format', 'isAbsolute', 'join', 'normalize', 'parse', 'posix', 'relative', 'resolve', 'sep', 'toNamespacedPath', 'win32'],
  'node:process': ['env', 'nextTick', 'platform', 'features', 'getBuiltinModule', 'exit'],
  'node:querystring': ['decode', 'encode', 'escape', 'parse', 'stringify', 'unescape', 'unescapeBuffer'],
  'node:stream': ['Readable', 'Writable', 'Duplex', 'Transform', 'PassThrough', 'Stream', 'pipeline', 'finished', 'addAbortSignal', 'compose', 'destroy', 'isDisturbed', 'isErrored', 'isReadable', 'promises'],
  'node:stream/promises': ['pipeline', 'finished'],
  'node:string_decoder': ['StringDecoder'],
  'node:timers': ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'setImmediate', 'clearImmediate', 'promises'],
  'node:timers/promises': ['setTimeout', 'setImmediate', 'setInterval', 'scheduler'],
  'node:url': ['URL', 'URLSearchParams', 'fileURLToPath', 'pathToFileURL', 'domainToASCII', 'domainToUnicode', 'urlToHttpOptions', 'format', 'parse', 'Url'],
  'node:util': ['promisify', 'callbackify', 'inherits', 'deprecate', 'format', 'inspect', 'isDeepStrictEqual', 'types', 'isArray', 'TextEncoder', 'TextDecoder'],
  'node:zlib': ['constants', 'crc32', 'deflate', 'deflateSync', 'Deflate', 'createDeflate', 'inflate', 'inflateSync', 'Inflate', 'createInflate', 'deflateRaw', 'deflateRawSync', 'DeflateRaw', 'createDeflateRaw', 'inflateRaw', 'inflateRawSync', 'InflateRaw', 'createInflateRaw', 'gzip', 'gzipSync', 'Gzip', 'createGzip', 'gunzip', 'gunzipSync', 'Gunzip', 'createGunzip', 'unzip', 'unzipSync', 'Unzip', 'createUnzip'],
  // Those that can be imported but not used (node-stub-modules.ts).
  ...Object.fromEntries(Object.entries(STUB_MODULES).map(([name, stub]) => [name, stubExportNames(stub)])),
};

const PROCESS_ENV_FROM = '2025-04-01';

/**
 * What `process.env` starts with (JSON), as on Workers: the worker's text and secret bindings when the
 * version has nodejs_compat and either the nodejs_compat_populate_process_env flag or a compatibility
 * date from 2025-04-01 on (unless nodejs_compat_do_not_populate_process_env); else nothing.
 */
export function processEnvJson(version: Version): string {
  const flags = version.compatibilityFlags ?? [];
  const populate = flags.includes('nodejs_compat_populate_process_env') || ((version.compatibilityDate ?? '') >= PROCESS_ENV_FROM && !flags.includes('nodejs_compat_do_not_populate_process_env'));
  if (!populate) return '{}';
  // fromEntries defines the keys: a binding named __proto__ is a key like the others.
  return JSON.stringify(Object.fromEntries(version.bindings.filter((b) => b.type === 'plain_text' || b.type === 'secret_text').map((b) => [b.name, b.text!])));
}

/** Other names for the same modules. */
const ALIASES: Readonly<Record<string, string>> = { 'node:path/posix': 'node:path' };

/** The flags under which workers may import them. */
const NODE_COMPAT_FLAGS: readonly string[] = ['nodejs_compat', 'nodejs_compat_v2'];
/** From this compatibility date on, Workers turn nodejs_compat on without the flag; `no_nodejs_compat` turns it off. */
const NODE_COMPAT_DEFAULT_FROM = '2026-08-04';

/** The Node.js modules, as error messages list them. */
export const AVAILABLE_BUILTINS = Object.keys(BUILTIN_EXPORTS).filter((name) => name.startsWith('node:')).sort().join(', ');

const WORKERS_MODULE = 'cloudflare:workers';

/** What decides a version's Node.js compatibility (the CLI, which sets no date, passes null). */
export type CompatSettings = Pick<Version, 'compatibilityFlags' | 'compatibilityDate'>;

export function hasNodeCompat({ compatibilityFlags: flags = [], compatibilityDate: date }: CompatSettings): boolean {
  if (flags.some((flag) => NODE_COMPAT_FLAGS.includes(flag))) return true;
  return date !== null && date >= NODE_COMPAT_DEFAULT_FROM && !flags.includes('no_nodejs_compat');
}

/** Whether a version may import Node.js module `name`: Workers' nodejs_als allows AsyncLocalStorage alone. */
export function mayImportNodeModule(name: string, compat: CompatSettings): boolean {
  return hasNodeCompat(compat) || (name === 'node:async_hooks' && (compat.compatibilityFlags ?? []).includes('nodejs_als'));
}

/** `node:buffer`, `buffer` and `node:path/posix` → the Node.js module they name here (`node:…`), or null. */
export function supportedBuiltin(specifier: string): string | null {
  if (specifier.startsWith('cloudflare:')) return null;
  const prefixed = specifier.startsWith('node:') ? specifier : `node:${specifier}`;
  const name = ALIASES[prefixed] ?? prefixed;
  return Object.hasOwn(BUILTIN_EXPORTS, name) ? name : null;
}

/**
 * The built-in module `specifier` names (`node:buffer`, or `buffer` under nodejs_compat), or null when
 * it names none (it is then an uploaded module's path, or missing). A `node:` module this runtime does
 * not have, or any of them without the flag, is a deploy error.
 */
export function builtinModuleName(specifier: string, importer: string, version: Version): string | null {
  if (specifier === WORKERS_MODULE) return WORKERS_MODULE;
  if (specifier.startsWith('cloudflare:')) {
    throw new IsolaneError('ISO_ERR_DEPLOY_MODULE_MISSING', `cannot import "${specifier}" from ${importer}: of Cloudflare's modules this runtime has ${WORKERS_MODULE}`, { details: { module: importer, specifier } });
  }
  const name = supportedBuiltin(specifier);
  const nodeCompat = name !== null ? mayImportNodeModule(name, version) : hasNodeCompat(version);
  const known = name !== null;
  if (!specifier.startsWith('node:') && !known) return null;
  const details = { module: importer, specifier };
  if (!nodeCompat) {
    throw new IsolaneError('ISO_ERR_DEPLOY_MODULE_MISSING', `cannot import "${specifier}" from ${importer}: Node.js built-in modules need the nodejs_compat compatibility flag (metadata "compatibility_flags": ["nodejs_compat"]) or a compatibility_date from ${NODE_COMPAT_DEFAULT_FROM} on`, { details });
  }
  if (!known) {
    throw new IsolaneError('ISO_ERR_DEPLOY_MODULE_MISSING', `cannot import "${specifier}" from ${importer}: this runtime's Node.js built-in modules are ${AVAILABLE_BUILTINS}`, { details });
  }
  return name!;
}

/** The source of built-in module `name`'s link: its exports, read once from the runtime. */
export function builtinModuleSource(name: string): string {
  const names = BUILTIN_EXPORTS[name]!;
  return `const m = __isolaneBuiltinModule(${JSON.stringify(name)});\nexport default m.default;\nexport const ${names.map((n) => `${n} = m.${n}`).join(', ')};\n`;
}
