/**
 * Chunks built from the runtime's own TypeScript (runtime-bundle.ts, MODULE_CHUNKS), which share the
 * runtime's modules instead of bundling copies of them. A chunk runs when first needed, after tenant code
 * may have replaced globals; a copy of runtime/primordials.ts made then would capture the tenant's
 * functions, and a copy of CryptoKey's module would be a second class. So every runtime module outside
 * the chunk's own files is left out of it and handed in by the runtime, as plain values:
 *
 * - The chunk is bundled as an ES module whose imports of those modules stay imports; each
 *   `import{a as b}from"given:runtime/x.ts"` becomes `const{a:b}=given["runtime/x.ts"]`, its exports a
 *   returned object literal, and the whole body a `make(given)` function: `chunkExports = { make }`.
 * - The runtime's script gets a module, `isolane:given/<chunk>`, whose `given()` builds that argument
 *   from the same imports: null-prototype object literals of the values, made when first asked for.
 *
 * No esbuild interop helper runs in between (an ES namespace object or `__toESM` would call
 * Object.create, Object.getOwnPropertyNames and Object.defineProperty as the tenant left them, on
 * objects holding the runtime's bridge functions), and no isolate pays for namespace getters.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { build, type BuildOptions, type Plugin } from 'esbuild';

export interface ModuleChunk {
  /** Source of an ES module importing the chunk's own files (paths from the project root) and exporting what loadChunk's `make` returns. */
  entry: string;
  /** The chunk's own files, relative to runtime/; any other runtime module it imports is given. */
  own: string[];
}

export interface BuiltModuleChunk {
  /** The chunk's script: its completion value is `{ make(given) }`. */
  source: string;
  /** Source of the runtime's `isolane:given/<chunk>` module. */
  givenModule: string;
}

const GIVEN = 'given:';
const IMPORT = /import\s*\{([^}]*)\}\s*from\s*"given:([^"]+)";?/g;
const EXPORT = /export\s*\{([^}]*)\};?\s*$/;
const GIVEN_PARAMETER = '__isolane_given';

/** `a as b, c` → [['a', 'b'], ['c', 'c']]. */
function bindings(list: string): [string, string][] {
  return list
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '')
    .map((item) => {
      const [name, local = name] = item.split(/\s+as\s+/) as [string, string?];
      return [name, local];
    });
}

export async function buildModuleChunk(name: string, chunk: ModuleChunk, root: string, common: BuildOptions): Promise<BuiltModuleChunk> {
  const runtime = path.join(root, 'runtime');
  const own = new Set(chunk.own.map((file) => path.join(runtime, file)));
  const giveOthers: Plugin = {
    name: 'isolane-given-runtime-modules',
    setup(builder) {
      builder.onResolve({ filter: /^\.\.?\// }, (args) => {
        if (!own.has(args.importer)) return undefined;
        const file = path.resolve(path.dirname(args.importer), args.path);
        if (own.has(file)) return undefined;
        if (!file.startsWith(runtime + path.sep)) throw new Error(`runtime chunk ${name}: ${args.importer} imports ${args.path}, outside runtime/`);
        return { path: GIVEN + path.relative(root, file).split(path.sep).join('/'), external: true };
      });
    },
  };
  const result = await build({
    ...common,
    format: 'esm',
    banner: {},
    stdin: { contents: chunk.entry, resolveDir: root, loader: 'ts' },
    plugins: [giveOthers],
    write: false,
  });
  let code = result.outputFiles[0]!.text;

  const given = new Map<string, Set<string>>();
  // All at the top of `make`, wherever esbuild put the imports: an import is bound before any code runs.
  const destructurings: string[] = [];
  code = code.replace(IMPORT, (_, list: string, file: string) => {
    const pairs = bindings(list);
    const names = given.get(file) ?? new Set<string>();
    for (const [imported] of pairs) names.add(imported);
    given.set(file, names);
    destructurings.push(`const{${pairs.map(([imported, local]) => (imported === local ? local : `${imported}:${local}`)).join(',')}}=${GIVEN_PARAMETER}[${JSON.stringify(file)}];`);
    return '';
  });
  code = destructurings.join('') + code;
  // A value is handed over once: a binding the runtime reassigns later would not be seen by the chunk.
  for (const [file, names] of given) {
    const source = await readFile(path.join(root, file), 'utf8');
    for (const [, declared] of source.matchAll(/export\s+(?:let|var)\s+([\w$]+)/g)) {
      if (names.has(declared!)) throw new Error(`runtime chunk ${name}: ${file} exports ${declared} as a variable binding, which a chunk cannot share`);
    }
  }
  // Anything else (a namespace or default import, a side-effect import) would need an interop helper.
  if (code.includes(GIVEN)) throw new Error(`runtime chunk ${name}: an import of a runtime module in a shape other than import {…}`);
  const exported = EXPORT.exec(code);
  if (exported === null) throw new Error(`runtime chunk ${name}: no export list at the end of the bundle`);
  const returned = bindings(exported[1]!).map(([local, as]) => `${JSON.stringify(as)}:${local}`);
  code = `${code.slice(0, exported.index)}return{__proto__:null,${returned.join(',')}};`;
  // `make` parenthesised: V8 compiles it with the script, so its code is in the chunk's code cache.
  const source = `(function(){"use strict";return{make:(function(${GIVEN_PARAMETER}){${code}})};})()`;

  // The runtime's side: one import per given module, aliased so that equal names cannot collide.
  const imports: string[] = [];
  const objects: string[] = [];
  let n = 0;
  for (const [file, names] of given) {
    const aliases = [...names].map((imported) => [imported, `g${n++}`] as const);
    imports.push(`import{${aliases.map(([imported, alias]) => `${imported} as ${alias}`).join(',')}}from${JSON.stringify(path.join(root, file))};`);
    objects.push(`${JSON.stringify(file)}:{__proto__:null,${aliases.map(([imported, alias]) => `${JSON.stringify(imported)}:${alias}`).join(',')}}`);
  }
  const givenModule = `${imports.join('\n')}\nexport function given(){return{__proto__:null,${objects.join(',')}};}\n`;
  return { source, givenModule };
}

/** Resolves `isolane:given/<chunk>` in the runtime's script to the chunk's given module. */
export function givenModules(chunks: Record<string, BuiltModuleChunk>, root: string): Plugin {
  return {
    name: 'isolane-given-modules',
    setup(builder) {
      builder.onResolve({ filter: /^isolane:given\// }, (args) => ({ path: args.path.slice('isolane:given/'.length), namespace: 'isolane-given' }));
      builder.onLoad({ filter: /.*/, namespace: 'isolane-given' }, (args) => {
        const chunk = chunks[args.path];
        if (chunk === undefined) throw new Error(`no runtime module chunk named ${args.path}`);
        return { contents: chunk.givenModule, resolveDir: root, loader: 'js' };
      });
    },
  };
}
