/**
 * Compiles a version's modules into an isolate and links them: relative specifiers resolve against the
 * importing module's name; anything else (bare names, URLs, missing files) is a deploy error.
 * Text, JSON and data modules become ES modules with a default export.
 */
import { posix } from 'node:path';
import ivm from 'isolated-vm';
import { IsolaneError } from '../errors.ts';
import type { Version, WorkerModule } from '../types.ts';
import { cacheOptions, rememberCache } from './code-cache.ts';

export function resolveSpecifier(specifier: string, importer: string): string | null {
  if (!specifier.startsWith('./') && !specifier.startsWith('../')) return null;
  const joined = posix.normalize(posix.join(posix.dirname(importer), specifier));
  return joined.startsWith('../') || joined.startsWith('/') ? null : joined;
}

function moduleSource(module: WorkerModule): string {
  switch (module.type) {
    case 'esm':
      return module.content;
    case 'text':
      return `export default ${JSON.stringify(module.content)};`;
    case 'json':
      return `export default JSON.parse(${JSON.stringify(module.content)});`;
    case 'data':
      return `const s = atob(${JSON.stringify(module.content)}); const b = new Uint8Array(s.length);
for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i);
export default b.buffer;`;
  }
}

/** Turns V8's `message [file:line:col]` into a deploy error carrying module, line and column. */
export function syntaxError(err: unknown, moduleName: string): IsolaneError {
  const message = err instanceof Error ? err.message : String(err);
  const where = /\[(?:[^\]]*?):(\d+):(\d+)\]$/.exec(message);
  const text = message.replace(/\s*\[[^\]]*\]$/, '');
  const line = where ? Number(where[1]) : undefined;
  const column = where ? Number(where[2]) : undefined;
  return new IsolaneError('ISO_ERR_DEPLOY_SYNTAX', `${moduleName}${line ? `:${line}:${column}` : ''}: ${text}`, {
    details: { module: moduleName, line, column },
  });
}

/** Compile the main module and everything it imports; returns the linked main module. */
export function linkModules(isolate: ivm.Isolate, context: ivm.Context, version: Version): ivm.Module {
  const byName = new Map(version.modules.map((m) => [m.name, m]));
  const compiled = new Map<string, ivm.Module>();
  const names = new Map<ivm.Module, string>();

  const compile = (name: string): ivm.Module => {
    const existing = compiled.get(name);
    if (existing) return existing;
    const source = byName.get(name);
    if (!source) throw new IsolaneError('ISO_ERR_DEPLOY_MODULE_MISSING', `module not found: ${name}`, { details: { module: name } });
    const cacheKey = `${version.id}:${name}`;
    let module: ivm.Module;
    try {
      module = isolate.compileModuleSync(moduleSource(source), { filename: name, ...cacheOptions(cacheKey) });
    } catch (err) {
      throw syntaxError(err, name);
    }
    rememberCache(cacheKey, module as unknown as { cachedData?: ivm.ExternalCopy<ArrayBuffer> });
    compiled.set(name, module);
    names.set(module, name);
    return module;
  };

  const main = compile(version.main);
  // isolated-vm rethrows a resolver's error as a plain Error: keep ours to rethrow it with its code.
  let linkError: unknown = null;
  try {
    main.instantiateSync(context, (specifier, referrer) => {
      try {
        const importer = names.get(referrer) ?? version.main;
        const resolved = resolveSpecifier(specifier, importer);
        if (resolved === null) {
          throw new IsolaneError('ISO_ERR_DEPLOY_MODULE_MISSING', `cannot import "${specifier}" from ${importer}: only relative imports of uploaded modules are supported`, { details: { module: importer, specifier } });
        }
        return compile(resolved);
      } catch (err) {
        linkError = err;
        throw err;
      }
    });
  } catch (err) {
    throw linkError ?? new IsolaneError('ISO_ERR_DEPLOY_STARTUP', err instanceof Error ? err.message : String(err));
  }
  return main;
}
