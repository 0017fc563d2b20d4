/**
 * Builds the in-isolate runtime (runtime/index.ts and what it imports) into one classic script,
 * once per process. The host compiles it with `isolate.compileScript(code)` and runs it once in
 * every fresh context, before the worker's code.
 *
 * A few modules of whatwg-url's dependency tree are replaced here (see runtime/url/url.ts for why):
 * legacy encodings and TextEncoder/TextDecoder lookups go, and tr46's Unicode tables load lazily.
 */
import path from 'node:path';
import { build, type Plugin } from 'esbuild';

const ROOT = path.resolve(import.meta.dirname, '../..');
const RUNTIME = path.join(ROOT, 'runtime');

/** Module → replacement file in runtime/url/. `importer` limits the swap to whatwg-url's own imports. */
const REPLACEMENTS: { filter: RegExp; importer: RegExp; file: string }[] = [
  { filter: /^\.\/encoding(\.js)?$/, importer: /whatwg-url[\\/]lib[\\/]/, file: 'url/whatwg-url-encoding.ts' },
  { filter: /^@exodus\/bytes\/whatwg\.js$/, importer: /whatwg-url[\\/]/, file: 'url/percent-encode-after-encoding.ts' },
  { filter: /^@exodus\/bytes\/encoding\.js$/, importer: /whatwg-url[\\/]/, file: 'url/no-legacy-encodings.ts' },
  { filter: /^tr46$/, importer: /whatwg-url[\\/]/, file: 'url/tr46-lazy.ts' },
];

const replaceModules: Plugin = {
  name: 'isolane-runtime-replacements',
  setup(builder) {
    for (const { filter, importer, file } of REPLACEMENTS) {
      builder.onResolve({ filter }, (args) =>
        importer.test(args.importer) ? { path: path.join(RUNTIME, file) } : undefined,
      );
    }
  },
};

export async function bundleRuntime(): Promise<string> {
  const result = await build({
    entryPoints: [path.join(RUNTIME, 'index.ts')],
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
    // Class and function names are visible to workers (`response.constructor.name`, stack traces).
    keepNames: true,
    // Strict mode for the whole script: no runtime function is reachable through `fn.caller`,
    // `arguments.callee` or a CallSite's getFunction() from sloppy tenant code.
    banner: { js: '"use strict";' },
    logLevel: 'silent',
    plugins: [replaceModules],
  });
  if (result.outputFiles.length !== 1) throw new Error(`expected one output file, got ${result.outputFiles.length}`);
  return result.outputFiles[0]!.text;
}

let memo: Promise<string> | null = null;

/** The runtime script, built on first call and shared for the life of the process. */
export async function buildRuntimeBundle(): Promise<string> {
  if (memo === null) {
    memo = bundleRuntime();
    // A failed build is not cached: the next caller tries again (and sees the error itself).
    memo.catch(() => {
      memo = null;
    });
  }
  return memo;
}
