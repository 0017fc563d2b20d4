/**
 * The modules a worker imports by name rather than upload: `cloudflare:workers` always, and the
 * Node.js built-in modules (`node:assert`, `node:assert/strict`, `node:async_hooks`, `node:buffer`,
 * `node:crypto`, `node:diagnostics_channel`, `node:events`, `node:path`, `node:process`,
 * `node:querystring`, `node:stream`, `node:stream/promises`, `node:string_decoder`, `node:timers`,
 * `node:timers/promises`, `node:url`, `node:util`, `node:zlib`) under the nodejs_compat flag. The host links such an
 * import to a small module of its own (src/isolates/builtin-modules.ts) that reads the exports from here
 * through `__isolaneBuiltinModule(specifier)`, a global that hands out nothing but these modules and is deleted
 * once the worker's modules have run (install, entry.ts), like the boot hook: a worker's own top-level
 * code could replace it, and fool only its own later imports. Each module is made on its first import
 * (the Node.js ones from runtime chunks): isolates that import none pay nothing.
 *
 * The export names each link offers are listed host-side; test/e2e/node-builtins.test.ts checks the
 * two agree.
 */
import {
  loadAssert,
  loadAssertStrict,
  loadAsyncHooks,
  loadBuffer,
  loadCrypto,
  loadDiagnosticsChannel,
  loadEvents,
  loadPath,
  loadProcess,
  loadQuerystring,
  loadStream,
  loadStreamPromises,
  loadStringDecoder,
  loadTimers,
  loadTimersPromises,
  loadUrl,
  loadUtil,
  loadZlib,
  loadStub,
  type ModuleExports,
} from './node/modules.ts';
import { loadWorkersModule } from './workers/entrypoints.ts';
import { defineLazyGlobal } from './global/define.ts';
import { ArrayIsArray, CONFIGURABLE, defineValue, globalThisRef, JSONParse, ObjectCreate, ReflectDeleteProperty, StringPrototypeStartsWith, TypeErrorCtor } from './primordials.ts';

const modules: Record<string, ModuleExports> = ObjectCreate(null);

/** process.env's first contents, from the host (nodeGlobals); empty until then. */
let processEnv: Record<string, string> = ObjectCreate(null);

const loaders: Record<string, () => ModuleExports> = {
  __proto__: null as never,
  'cloudflare:workers': loadWorkersModule,
  'node:assert': loadAssert,
  'node:assert/strict': () => loadAssertStrict(builtinModule),
  'node:async_hooks': loadAsyncHooks,
  'node:buffer': loadBuffer,
  'node:crypto': loadCrypto,
  'node:diagnostics_channel': loadDiagnosticsChannel,
  'node:events': loadEvents,
  'node:path': loadPath,
  'node:process': () => loadProcess({ env: processEnv, getBuiltinModule }),
  'node:querystring': () => loadQuerystring(builtinModule),
  'node:stream': () => loadStream(builtinModule),
  'node:stream/promises': () => loadStreamPromises(builtinModule),
  'node:string_decoder': () => loadStringDecoder(builtinModule),
  'node:timers': loadTimers,
  'node:timers/promises': () => loadTimersPromises(builtinModule),
  'node:url': () => loadUrl(builtinModule),
  'node:util': loadUtil,
  'node:zlib': () => loadZlib(builtinModule),
};

/** Node's `process.getBuiltinModule(id)`: the module as `require(id)` gives it, or undefined. */
function getBuiltinModule(id: string): unknown {
  const name = id === 'node:path/posix' || id === 'path/posix' ? 'node:path' : StringPrototypeStartsWith(id, 'node:') ? id : `node:${id}`;
  const found = modules[name] ?? loadModule(name);
  return found === null ? undefined : found.default;
}

function builtinModule(specifier: unknown): ModuleExports {
  const name = `${specifier as string}`;
  const found = modules[name] ?? loadModule(name);
  if (found === null) throw new TypeErrorCtor(`No such built-in module: ${name}`);
  return found;
}

/** Makes module `name` once: one of ours, or one that can be imported but not used; null if neither. */
function loadModule(name: string): ModuleExports | null {
  const load = loaders[name];
  const made = load !== undefined ? load() : StringPrototypeStartsWith(name, 'node:') ? loadStub(name, builtinModule, getBuiltinModule) : null;
  if (made !== null) modules[name] = made;
  return made;
}

/**
 * The Node.js modules the host linked for this worker's imports (dispatch('builtinLinks')): only those
 * go out through the hook. Without the gate a worker with no nodejs_compat got any of them by calling
 * the hook from its top-level code.
 */
const linked: Record<string, true | undefined> = { __proto__: null, 'cloudflare:workers': true } as unknown as Record<string, true | undefined>;

export function allowBuiltinLinks(namesJson: unknown): void {
  const names = JSONParse(`${namesJson as string}`) as unknown;
  if (!ArrayIsArray(names)) throw new TypeErrorCtor('builtinLinks takes the JSON of an array of module names.');
  for (let i = 0; i < names.length; i++) linked[`${names[i] as string}`] = true;
}

function linkedModule(specifier: unknown): ModuleExports {
  const name = `${specifier as string}`;
  if (linked[name] !== true) throw new TypeErrorCtor(`No such built-in module: ${name}`);
  return builtinModule(name);
}

export function installBuiltinModules(): void {
  defineValue(globalThisRef, '__isolaneBuiltinModule', linkedModule, CONFIGURABLE);
}

/**
 * nodejs_compat's globals, as on Workers: `Buffer` (node:buffer's) and `process` (node:process's), each
 * made on first read. `envJson`: what process.env starts with.
 */
export function installNodeGlobals(envJson: unknown): void {
  const env = JSONParse(`${envJson as string}`) as unknown;
  if (typeof env !== 'object' || env === null) throw new TypeErrorCtor('process.env must be the JSON of an object.');
  processEnv = env as Record<string, string>;
  defineLazyGlobal('Buffer', () => builtinModule('node:buffer').Buffer);
  defineLazyGlobal('process', () => builtinModule('node:process').default);
}

export function removeBuiltinModuleHook(): void {
  ReflectDeleteProperty(globalThisRef, '__isolaneBuiltinModule');
}
