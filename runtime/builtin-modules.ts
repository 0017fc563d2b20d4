/**
 * The modules a worker imports by name rather than upload: `cloudflare:workers` always, and the
 * Node.js built-in modules (`node:assert`, `node:async_hooks`, `node:buffer`, `node:crypto`, `node:events`,
 * `node:path`, `node:util`) under the nodejs_compat flag. The host links such an import to a small module of its own
 * (src/isolates/builtin-modules.ts) that reads the exports from here through
 * `__isolaneBuiltinModule(specifier)`, a global that hands out nothing but these modules and is deleted
 * once the worker's modules have run (install, entry.ts), like the boot hook: a worker's own top-level
 * code could replace it, and fool only its own later imports. Each module is made on its first import
 * (the Node.js ones from runtime chunks): isolates that import none pay nothing.
 *
 * The export names each link offers are listed host-side; test/e2e/node-builtins.test.ts checks the
 * two agree.
 */
import { loadAssert, loadAsyncHooks, loadBuffer, loadCrypto, loadEvents, loadPath, loadUtil, type ModuleExports } from './node/modules.ts';
import { loadWorkersModule } from './workers/entrypoints.ts';
import { defineLazyGlobal } from './global/define.ts';
import { CONFIGURABLE, defineValue, globalThisRef, ObjectCreate, ReflectDeleteProperty, TypeErrorCtor } from './primordials.ts';

const modules: Record<string, ModuleExports> = ObjectCreate(null);

const loaders: Record<string, () => ModuleExports> = {
  __proto__: null as never,
  'cloudflare:workers': loadWorkersModule,
  'node:assert': loadAssert,
  'node:async_hooks': loadAsyncHooks,
  'node:buffer': loadBuffer,
  'node:crypto': loadCrypto,
  'node:events': loadEvents,
  'node:path': loadPath,
  'node:util': loadUtil,
};

function builtinModule(specifier: unknown): ModuleExports {
  const name = `${specifier as string}`;
  const load = loaders[name];
  if (load === undefined) throw new TypeErrorCtor(`No such built-in module: ${name}`);
  return (modules[name] ??= load());
}

export function installBuiltinModules(): void {
  defineValue(globalThisRef, '__isolaneBuiltinModule', builtinModule, CONFIGURABLE);
}

/** nodejs_compat's global `Buffer`, as on Workers: node:buffer's, made on first read. */
export function installNodeGlobals(): void {
  defineLazyGlobal('Buffer', () => builtinModule('node:buffer').Buffer);
}

export function removeBuiltinModuleHook(): void {
  ReflectDeleteProperty(globalThisRef, '__isolaneBuiltinModule');
}
