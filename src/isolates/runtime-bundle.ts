/**
 * Builds the in-isolate runtime (runtime/index.ts and what it imports) into one classic script,
 * once per process. The host compiles it with `isolate.compileScript(code)` and runs it once in
 * every fresh context, before the worker's code.
 *
 * Code that few workers need and that is large is built apart, as chunks: their source is not part of
 * every isolate (V8 keeps a script's whole source for as long as the isolate lives, ~1 byte of memory
 * per byte of source). The runtime asks for a chunk by name (bridge op `runtimeChunk`) the first time it needs
 * it, and the host runs it there from the thread's code cache (runtime-chunks.ts). The chunks: tr46's Unicode tables (243 KB of the 452 KB
 * the script was), needed only for hosts that are not plain ASCII; web-streams-polyfill (62 KB), needed
 * only by workers that touch a stream; whatwg-url's parser (23 KB), needed only for URLs the fast path
 * (runtime/url/simple-url.ts) does not take; urlpattern-polyfill and fflate, for URLPattern and
 * compression streams; the generic Array.prototype algorithms (runtime/global/interruptible/), needed
 * only for huge arrays and array-likes; the Node.js built-in modules of nodejs_compat (runtime/node/);
 * Web Crypto's SubtleCrypto (MODULE_CHUNKS).
 *
 * whatwg-url's dependencies on the platform are handed in by the runtime (WHATWG_URL_GIVEN): legacy
 * encodings and TextEncoder/TextDecoder lookups go, and tr46's Unicode tables load lazily.
 * web-streams-polyfill's UMD wrapper is unwrapped (see unwrapUmd) so that its chunk is parsed once.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { build, type BuildOptions, type Plugin } from 'esbuild';
import { STUB_MODULES } from './node-stub-modules.ts';
import { buildModuleChunk, givenModules, type BuiltModuleChunk, type ModuleChunk } from './runtime-module-chunks.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const RUNTIME = path.join(ROOT, 'runtime');

/**
 * whatwg-url (the URL parser behind runtime/url/url.ts) is a chunk, and what it takes from the platform
 * is handed in by url.ts when it makes the chunk (`make(given)`, as the node-stream chunk's, and through
 * the same injected modules): the runtime's UTF-8 codec (encoding/utf8.ts), percent-encoding
 * (url/percent-encode-after-encoding.ts) and tr46 with its Unicode tables loaded on first IDN
 * (url/tr46-lazy.ts). @exodus/bytes/encoding.js is imported only to register the legacy multi-byte
 * encodings HTML documents may use for query strings; URLs made through the URL API are always UTF-8,
 * so it is an empty module here. `importer` limits each swap to whatwg-url's own imports.
 */
const WHATWG_URL_GIVEN: { filter: RegExp; importer: RegExp; given: string | null }[] = [
  { filter: /^\.\/encoding(\.js)?$/, importer: /whatwg-url[\\/]lib[\\/]/, given: 'encoding' },
  { filter: /^@exodus\/bytes\/whatwg\.js$/, importer: /whatwg-url[\\/]/, given: 'percentEncoding' },
  { filter: /^@exodus\/bytes\/encoding\.js$/, importer: /whatwg-url[\\/]/, given: null },
  { filter: /^tr46$/, importer: /whatwg-url[\\/]/, given: 'tr46' },
];

const giveWhatwgUrlPlatform: Plugin = {
  name: 'isolane-whatwg-url-platform',
  setup(builder) {
    for (const { filter, importer, given } of WHATWG_URL_GIVEN) {
      builder.onResolve({ filter }, (args) =>
        importer.test(args.importer) ? (given === null ? { path: args.path, namespace: 'isolane-empty' } : { path: given, namespace: INJECTED }) : undefined,
      );
    }
    builder.onLoad({ filter: /.*/, namespace: 'isolane-empty' }, () => ({ contents: 'module.exports = {};', loader: 'js' }));
  },
};

/**
 * V8 compiles a function lazily, re-parsing its whole body, on its first call, unless the function
 * was compiled eagerly with the script, which V8 does for parenthesised function expressions. Only
 * eagerly compiled code goes into the code cache. esbuild wraps each CommonJS module in
 * `__commonJS(<arrow>)`, so whatwg-url's ~60 KB were re-parsed on the first `new URL()` of every
 * isolate (~3 ms). Wrapping those arrows in parentheses makes them eager and cached; they still
 * run only when first required. The modules are marked at load time and the wrapper calls rewritten
 * after minification; the counts are checked so that a change in esbuild's output fails the build.
 * tr46 and punycode are left lazy: their Unicode tables are rarely needed.
 */
const EAGER_MODULES = /[\\/]node_modules[\\/](whatwg-url|webidl-conversions)[\\/].*\.js$/;
const EAGER_START = '__isolane_eager_start__';
const EAGER_END = '__isolane_eager_end__';

/**
 * web-streams-polyfill is one minified UMD file, `!function(e,t){…}(this,function(e){…});`. Its
 * factory, a call argument, is pre-parsed when its CommonJS wrapper is first compiled and parsed again
 * when called. As `(function(e){…})(exports);`, a parenthesised call, it is compiled in that first
 * pass: the first stream of an isolate costs ~2.7 ms instead of ~5.4 ms. The library is left out of
 * EAGER_MODULES: eager, its first use would cost ~1.5 ms, but every isolate's setup ~0.5 ms more
 * (code cache 98 KB → 153 KB). A change in the file's shape fails the build.
 */
const UMD_FILE = /[\\/]web-streams-polyfill[\\/]dist[\\/]ponyfill\.js$/;
const UMD_HEAD = /^(\/\*[\s\S]*?\*\/\s*)!function\(e,t\)\{[\s\S]*?\}\(this,function\(e\)\{/;
const UMD_TAIL = /\}\);\s*$/;

const unwrapUmd: Plugin = {
  name: 'isolane-unwrap-umd',
  setup(builder) {
    builder.onLoad({ filter: UMD_FILE }, async (args) => {
      const source = await readFile(args.path, 'utf8');
      if (!UMD_HEAD.test(source) || !UMD_TAIL.test(source)) throw new Error(`runtime bundle: ${args.path} is not the expected UMD bundle`);
      return { contents: source.replace(UMD_HEAD, '$1(function(e){').replace(UMD_TAIL, '})(exports);\n'), loader: 'js' };
    });
  },
};

/**
 * urlpattern-polyfill's prebuilt file names its functions with esbuild's `__name` helper, one
 * `Object.defineProperty(fn, 'name', …)` per closure, and its pattern parser makes closures per call
 * (its lexer one per character of the pattern). Defining a property on a function moves it off its
 * shared map: half of a `new URLPattern()` (~180 µs) went there. The helper is made to return the
 * function unnamed; the names were internal (the class itself is named by runtime/url/url-pattern.ts).
 * A change in the file's shape fails the build.
 */
const URLPATTERN_FILE = /[\\/]urlpattern-polyfill[\\/]dist[\\/]urlpattern\.js$/;
const NAME_HELPER = /\bvar ([\w$]+)=\(([\w$]+),([\w$]+)\)=>[\w$]+\(\2,"name",\{value:\3,configurable:!0\}\);/g;

const unnamePolyfillClosures: Plugin = {
  name: 'isolane-unname-urlpattern',
  setup(builder) {
    builder.onLoad({ filter: URLPATTERN_FILE }, async (args) => {
      const source = await readFile(args.path, 'utf8');
      let helpers = 0;
      const contents = source.replace(NAME_HELPER, (_, helper: string, fn: string) => {
        helpers++;
        return `var ${helper}=(${fn})=>${fn};`;
      });
      if (helpers !== 1) throw new Error(`runtime bundle: expected one __name helper in ${args.path}, found ${helpers}`);
      return { contents, loader: 'js' };
    });
  },
};

/**
 * path-browserify (node:path) resolves a relative path against `process.cwd()`, and an isolate has no
 * `process`: the working directory of a worker is `/`, as in workerd. A change in the file's shape
 * fails the build.
 */
const PATH_FILE = /[\\/]path-browserify[\\/]index\.js$/;

const rootAsWorkingDirectory: Plugin = {
  name: 'isolane-path-cwd',
  setup(builder) {
    builder.onLoad({ filter: PATH_FILE }, async (args) => {
      const source = await readFile(args.path, 'utf8');
      const calls = source.split('cwd = process.cwd();').length - 1;
      if (calls !== 1) throw new Error(`runtime bundle: expected one process.cwd() in ${args.path}, found ${calls}`);
      return { contents: source.replace('cwd = process.cwd();', "cwd = '/';"), loader: 'js' };
    });
  },
};

/**
 * readable-stream (node:stream) and string_decoder (node:string_decoder) require Node's buffer, events
 * and process, which other chunks make already: a second copy of Buffer would not know the first one's
 * buffers. In those two packages, such a require returns what the runtime handed the chunk's `make`
 * (runtime/node/modules.ts), kept as `chunkExports.given`: the chunk's one name that minification leaves
 * alone (and not an ES module's namespace, which esbuild builds with a for…in, see CHUNKS).
 */
const INJECTED_NAMES = /^(buffer|safe-buffer|events|process\/|abort-controller|string_decoder\/)$/;
const INJECTING_PACKAGES = /[\\/]node_modules[\\/](readable-stream|string_decoder)[\\/]/;

/** The namespace of modules that are what the runtime handed the chunk's `make` under that name. */
const INJECTED = 'isolane-injected';

const injectNodeModules: Plugin = {
  name: 'isolane-injected-node-modules',
  setup(builder) {
    builder.onResolve({ filter: INJECTED_NAMES }, (args) =>
      INJECTING_PACKAGES.test(args.importer) ? { path: args.path, namespace: INJECTED } : undefined,
    );
    builder.onLoad({ filter: /.*/, namespace: INJECTED }, (args) => ({
      contents: `module.exports = chunkExports.given[${JSON.stringify(args.path)}];`,
      loader: 'js',
    }));
  },
};

/** A chunk whose module is made from modules the runtime hands in: `make(given)` returns `made`, which requires them. */
function madeFromGiven(made: string): string {
  return `chunkExports = { given: null, make(given) { chunkExports.given = given; return ${made}; } };`;
}

const requireOf = (id: string) => `require(${JSON.stringify(id)})`;

const markEagerModules: Plugin = {
  name: 'isolane-eager-modules',
  setup(builder) {
    builder.onLoad({ filter: EAGER_MODULES }, async (args) => ({
      contents: `${EAGER_START}();\n${await readFile(args.path, 'utf8')}\n;${EAGER_END}();\n`,
      loader: 'js',
    }));
  },
};

function parenthesizeEagerModules(code: string, expected: number): string {
  let starts = 0;
  let ends = 0;
  // `wrap((exports,module)=>{MARK();…` → `wrap(((exports,module)=>{…`
  let out = code.replace(new RegExp(`([\\w$]+)\\((\\([\\w$,]*\\)|[\\w$]+)=>\\{${EAGER_START}\\(\\)[;,]?`, 'g'), (_, wrap, params) => {
    starts++;
    return `${wrap}((${params}=>{`;
  });
  // `…;MARK()})` → `…}))`
  out = out.replace(new RegExp(`[;,]?${EAGER_END}\\(\\)\\}\\)`, 'g'), () => {
    ends++;
    return '}))';
  });
  if (starts !== expected || ends !== expected || out.includes(EAGER_START) || out.includes(EAGER_END)) {
    throw new Error(`runtime bundle: expected ${expected} eager CommonJS wrappers, rewrote ${starts} starts and ${ends} ends`);
  }
  return out;
}

/**
 * esbuild's helpers (`__export`, `__toCommonJS`, and `__name` in urlpattern-polyfill's prebuilt file)
 * define properties with descriptor literals, which inherit from Object.prototype, through an alias
 * `var x=Object.defineProperty`. They run after tenant code may have put `get` or `value` on
 * Object.prototype (`__name` on every URLPattern parse, the helpers of a chunk as it loads), and the
 * definition would throw. Each such alias is made to give its descriptors a null prototype: they are the
 * helpers' own literals, never a caller's object. test/runtime/prototype-pollution.test.ts checks that
 * the fix still holds.
 */
const DEFINE_ALIAS = /\bvar ([\w$]+)=Object\.defineProperty(?=[;,])/g;
const OWN_DESCRIPTOR_DEFINE = '((define,setProto)=>(o,k,d)=>define(o,k,setProto(d,null)))(Object.defineProperty,Object.setPrototypeOf)';

function ownDescriptorDefines(code: string): string {
  return code.replace(DEFINE_ALIAS, (_, alias: string) => `var ${alias}=${OWN_DESCRIPTOR_DEFINE}`);
}

/** The runtime script and its chunks' sources by name. */
export interface RuntimeBundle {
  script: string;
  chunks: Record<string, string>;
}

/** How the script and the chunks are built. */
const COMMON = {
  bundle: true,
  write: false,
  format: 'iife',
  platform: 'neutral',
  // es2024: private fields, static blocks and toWellFormed stay native (V8 in Node 24 has them).
  target: 'es2024',
  // CommonJS dependencies (whatwg-url) resolve through their `main` fields under platform neutral.
  mainFields: ['main', 'module'],
  minify: true,
  legalComments: 'none',
  // No keepNames: it costs every isolate ~0.25 ms; runtime/global/define.ts names what workers see.
  // Strict mode for the whole script: no runtime function is reachable through `fn.caller`,
  // `arguments.callee` or a CallSite's getFunction() from sloppy tenant code.
  banner: { js: '"use strict";' },
  logLevel: 'silent',
} satisfies BuildOptions;

/**
 * Each chunk: an entry that puts what the runtime's loadChunk(name) returns into `chunkExports`.
 * A chunk is evaluated when first needed, after tenant code may have added enumerable properties to
 * Object.prototype, so its exports are a plain object literal or a CommonJS module's `exports`, never
 * an ES namespace: esbuild builds those with a `for…in` over an object and descriptor literals, which
 * such properties break ("Getter must be a function").
 */
const CHUNKS: Record<string, string> = {
  tr46: `chunkExports = require('tr46');`,
  'whatwg-url': madeFromGiven(`{ stateMachine: ${requireOf('whatwg-url/lib/url-state-machine.js')}, urlencoded: ${requireOf('whatwg-url/lib/urlencoded.js')} }`),
  'generic-array-methods': `import { genericMethods } from './runtime/global/interruptible/generic-methods.ts'; chunkExports = { genericMethods };`,
  'web-streams': `chunkExports = require('web-streams-polyfill');`,
  urlpattern: `import { URLPattern } from 'urlpattern-polyfill/urlpattern'; chunkExports = { URLPattern };`,
  fflate: `import { Deflate, Gzip, Inflate, Zlib } from './runtime/compression/fflate.ts'; chunkExports = { Deflate, Gzip, Inflate, Zlib };`,
  // Node.js built-in modules for nodejs_compat (runtime/node/modules.ts). The trailing slash names the
  // npm packages, not Node's own modules of the same names.
  'node-buffer': `import { withBase64url } from './runtime/node/buffer-base64url.ts'; chunkExports = withBase64url(require('buffer/'));`,
  'node-events': `chunkExports = require('events/');`,
  'node-path': `chunkExports = require('path-browserify');`,
  'node-util': `import { util } from './runtime/node/util.ts'; chunkExports = util;`,
  'node-crypto': `import { makeCrypto } from './runtime/node/crypto.ts'; chunkExports = { makeCrypto };`,
  'node-assert': `import { makeAssert } from './runtime/node/assert.ts'; chunkExports = { makeAssert };`,
  'node-async-hooks': `import { makeAsyncHooks } from './runtime/node/async-hooks.ts'; chunkExports = { makeAsyncHooks };`,
  'node-process': `import { makeProcess } from './runtime/node/process.ts'; chunkExports = { makeProcess };`,
  'node-string-decoder': madeFromGiven(requireOf('string_decoder/')),
  'node-stream': madeFromGiven(requireOf('readable-stream/lib/ours/browser.js')),
  'node-url': `import { makeUrl } from './runtime/node/url.ts'; chunkExports = { makeUrl };`,
  'node-querystring': `import { makeQuerystring } from './runtime/node/querystring.ts'; chunkExports = { makeQuerystring };`,
  'node-timers': `import { makeTimers } from './runtime/node/timers.ts'; chunkExports = { makeTimers };`,
  'node-diagnostics-channel': `import { makeDiagnosticsChannel } from './runtime/node/diagnostics-channel.ts'; chunkExports = { makeDiagnosticsChannel };`,
  'node-zlib': `import { makeZlib } from './runtime/node/zlib.ts'; chunkExports = { makeZlib };`,
  // The data of the modules that can be imported but not used, with the code that makes them.
  'node-stubs': `import { makeStubModule } from './runtime/node/stubs.ts'; chunkExports = { makeStubModule, specs: ${JSON.stringify(STUB_MODULES)} };`,
};

/**
 * Chunks of the runtime's own code that use the runtime's modules rather than copies
 * (runtime-module-chunks.ts): loadChunk(name) returns `{ make(given) }`. Web Crypto's SubtleCrypto, its
 * algorithms and key formats: 25 KB of the script, ~49 KB of heap in every spare while they were part of
 * it (each top-level function and table is made in every context), used by the workers that sign or
 * verify. A module chunk's top-level code runs when it is made, after tenant code: it uses primordials.
 */
const MODULE_CHUNKS: Record<string, ModuleChunk> = {
  'web-crypto': {
    entry: `export { SubtleCrypto } from './runtime/crypto/subtle.ts'; export { normalizeAlgorithm } from './runtime/crypto/algorithms.ts';`,
    own: ['subtle', 'algorithms', 'asymmetric-keys', 'jwk', 'operations', 'secret-keys', 'base64url'].map((file) => `crypto/${file}.ts`),
  },
};

/**
 * A chunk as a script whose completion value is its `chunkExports` (runtime-chunks.ts runs it). The
 * Node.js modules' chunks keep their functions' names: minified, `Buffer.name` was 'h' and
 * EventEmitter's 'o' (code that checks `constructor.name`, or logs it, saw them); they load only in
 * workers that import them, so the naming's cost is theirs.
 */
async function bundleChunk(entry: string, keepNames: boolean): Promise<string> {
  const result = await build({
    ...COMMON,
    keepNames,
    stdin: { contents: entry, resolveDir: ROOT, loader: 'js' },
    metafile: true,
    plugins: [giveWhatwgUrlPlatform, markEagerModules, unwrapUmd, unnamePolyfillClosures, rootAsWorkingDirectory, injectNodeModules],
    banner: { js: `(function () {${COMMON.banner.js}let chunkExports;` },
    footer: { js: 'return chunkExports;\n})()' },
  });
  const eager = Object.keys(result.metafile.inputs).filter((file) => EAGER_MODULES.test(`/${file}`)).length;
  return ownDescriptorDefines(parenthesizeEagerModules(result.outputFiles[0]!.text, eager));
}

export async function bundleRuntime(): Promise<RuntimeBundle> {
  const moduleChunkNames = Object.keys(MODULE_CHUNKS);
  const built = await Promise.all(moduleChunkNames.map((name) => buildModuleChunk(name, MODULE_CHUNKS[name]!, ROOT, COMMON)));
  const moduleChunks = Object.fromEntries(moduleChunkNames.map((name, i) => [name, built[i]!]));
  const [script, ...chunkSources] = await Promise.all([bundleScript(moduleChunks), ...Object.entries(CHUNKS).map(([name, entry]) => bundleChunk(entry, name.startsWith('node-')))]);
  const names = Object.keys(CHUNKS);
  const chunks = Object.fromEntries(names.map((name, i) => [name, chunkSources[i]!]));
  for (const name of moduleChunkNames) chunks[name] = moduleChunks[name]!.source;
  return { script: script!, chunks };
}

async function bundleScript(moduleChunks: Record<string, BuiltModuleChunk>): Promise<string> {
  const result = await build({
    ...COMMON,
    entryPoints: [path.join(RUNTIME, 'index.ts')],
    metafile: true,
    plugins: [unwrapUmd, givenModules(moduleChunks, ROOT)],
  });
  if (result.outputFiles.length !== 1) throw new Error(`expected one output file, got ${result.outputFiles.length}`);
  // A value import of a module chunk's file from the script would put a second copy in every isolate.
  const inputs = new Set(Object.keys(result.metafile.inputs));
  for (const [name, chunk] of Object.entries(MODULE_CHUNKS)) {
    const copied = chunk.own.filter((file) => inputs.has(`runtime/${file}`));
    if (copied.length > 0) throw new Error(`runtime bundle: ${copied.join(', ')} of chunk ${name} is in the script too`);
  }
  return ownDescriptorDefines(result.outputFiles[0]!.text);
}

let memo: Promise<RuntimeBundle> | null = null;

/** The runtime script and chunks, built on first call and shared for the life of the process. */
export async function buildRuntimeBundle(): Promise<RuntimeBundle> {
  if (memo === null) {
    memo = bundleRuntime();
    // A failed build is not cached: the next caller tries again (and sees the error itself).
    memo.catch(() => {
      memo = null;
    });
  }
  return memo;
}
