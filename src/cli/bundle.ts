/**
 * `isolane deploy`'s bundler: a worker's entry point (TypeScript or JavaScript, any number of files and
 * npm packages) → one ES module, the way wrangler builds a Worker with esbuild. Node's built-in modules
 * are refused: workers get the Workers APIs, not Node's; with the nodejs_compat flag, those the runtime
 * has (src/isolates/builtin-modules.ts) stay imports of the bundle, as wrangler leaves them, and
 * CommonJS requires of them become imports.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import { basename, extname, join } from 'node:path';
import { build, formatMessages, type BuildFailure, type Message, type Plugin } from 'esbuild';
import { AVAILABLE_BUILTINS, supportedBuiltin } from '../isolates/builtin-modules.ts';

export interface WorkerBundle {
  /** The module name the bundle is uploaded as: the entry's base name with `.js`. */
  mainModule: string;
  content: string;
  /** esbuild's warnings, formatted (file:line:col, the line, a caret). */
  warnings: string[];
}

/** A build that failed: `formatted` is esbuild's text for every error, each with file:line:col. */
export class BundleError extends Error {
  readonly formatted: string;
  readonly count: number;

  constructor(formatted: string, count: number) {
    super(`bundling failed with ${count} error${count === 1 ? '' : 's'}`);
    this.formatted = formatted;
    this.count = count;
  }
}

export interface BundleOptions {
  minify?: boolean;
  /** The worker has the nodejs_compat flag: the runtime's Node.js built-in modules may be imported. */
  nodeCompat?: boolean;
}

/** Extensions of an entry point that only a bundle can upload. */
export const TYPESCRIPT = /\.(?:ts|tsx|mts|cts)$/;

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
const BARE_BUILTIN = new RegExp(`^(?:${builtinModules.filter((m) => !m.startsWith('node:')).map(escape).join('|')})$`);

/** Where a CommonJS `require()` of a built-in module resolves under nodejs_compat (see nodeBuiltins). */
const REQUIRED_BUILTIN = 'isolane-required-builtin';

/**
 * `node:*` imports are refused, or left to the runtime under nodejs_compat when it has the module. A bare
 * name that is also a Node built-in (`buffer`, `events`, …) is resolved normally first, so an installed
 * npm package of that name (a polyfill) is bundled; only when nothing is installed is it the built-in.
 * Under nodejs_compat a CommonJS `require()` of one becomes a module that imports it (esbuild's own
 * `require` stub throws in an isolate, which has none), as wrangler does; of one the runtime does not
 * have, a module that throws when required: libraries require `fs` or `crypto` in code paths that run
 * only under Node, or inside a try.
 */
function nodeBuiltins(nodeCompat: boolean): Plugin {
  const builtin = (path: string, kind: string) => {
    const supported = supportedBuiltin(path);
    if (nodeCompat && kind === 'require-call') return { path, namespace: REQUIRED_BUILTIN, pluginData: { supported } };
    if (nodeCompat && supported !== null) return { path, external: true };
    const why = nodeCompat
      ? `the runtime's Node.js built-in modules are ${AVAILABLE_BUILTINS}`
      : supportedBuiltin(path) !== null
        ? 'it needs the nodejs_compat compatibility flag (--compatibility-flag nodejs_compat)'
        : "Isolane provides the Workers runtime APIs, not Node's";
    return { errors: [{ text: notAvailable(path, why) }] };
  };
  return {
    name: 'isolane-node-builtins',
    setup(build) {
      build.onResolve({ filter: /^node:/ }, (args) => builtin(args.path, args.kind));
      build.onLoad({ filter: /.*/, namespace: REQUIRED_BUILTIN }, (args) => {
        const { supported } = args.pluginData as { supported: string | null };
        const contents =
          supported !== null
            ? `import builtin from ${JSON.stringify(supported)};\nmodule.exports = builtin;\n`
            : `throw new Error(${JSON.stringify(notAvailable(args.path, `the runtime's Node.js built-in modules are ${AVAILABLE_BUILTINS}`))});\n`;
        return { contents, loader: 'js' };
      });
      // The runtime's own module, as wrangler leaves it.
      build.onResolve({ filter: /^cloudflare:workers$/ }, (args) => ({ path: args.path, external: true }));
      build.onResolve({ filter: BARE_BUILTIN }, async (args) => {
        if ((args.pluginData as { isolaneRetry?: boolean } | undefined)?.isolaneRetry) return undefined;
        const found = await build.resolve(args.path, { kind: args.kind, importer: args.importer, resolveDir: args.resolveDir, pluginData: { isolaneRetry: true } });
        if (found.errors.length > 0 || !found.path) return builtin(args.path, args.kind);
        return { path: found.path, namespace: found.namespace, external: found.external, sideEffects: found.sideEffects };
      });
    },
  };
}

function notAvailable(path: string, why: string): string {
  return `Node.js built-in module ${JSON.stringify(path)} is not available to this worker: ${why}; remove the import or use a Web API instead`;
}

function moduleNameFor(entry: string): string {
  return `${basename(entry, extname(entry))}.js`;
}

const format = async (messages: Message[], kind: 'error' | 'warning') =>
  messages.length === 0 ? [] : formatMessages(messages, { kind, color: false });

/** Bundles `entry` into one ES module. Throws BundleError with esbuild's messages when it cannot. */
export async function bundleWorker(entry: string, options: BundleOptions = {}): Promise<WorkerBundle> {
  let result;
  try {
    result = await build({
      entryPoints: [entry],
      bundle: true,
      write: false,
      format: 'esm',
      // As wrangler builds: a package's `browser` field first (and its map of files to replace), then
      // `module` and `main`. With `main` alone, packages whose Node entry needs node:stream (those built
      // on @whatwg-node/fetch: graphql-yoga) could not be bundled.
      platform: 'browser',
      conditions: ['workerd', 'worker', 'browser'],
      mainFields: ['browser', 'module', 'main'],
      loader: { '.ts': 'ts', '.tsx': 'tsx', '.js': 'js', '.mjs': 'js', '.jsx': 'jsx' },
      define: { 'process.env.NODE_ENV': '"production"' },
      minify: options.minify ?? false,
      legalComments: 'none',
      logLevel: 'silent',
      plugins: [nodeBuiltins(options.nodeCompat ?? false)],
    });
  } catch (err) {
    const failure = err as Partial<BuildFailure>;
    if (!Array.isArray(failure.errors)) throw err;
    const formatted = (await format(failure.errors, 'error')).join('');
    throw new BundleError(formatted, failure.errors.length);
  }
  const output = result.outputFiles[0];
  if (!output || result.outputFiles.length !== 1) throw new Error(`esbuild produced ${result.outputFiles.length} files for ${entry}; expected one module`);
  return { mainModule: moduleNameFor(entry), content: output.text, warnings: await format(result.warnings, 'warning') };
}

/** Writes a module to `outdir` (created if missing); returns the file's path. */
export async function writeModule(outdir: string, name: string, content: string | Uint8Array): Promise<string> {
  await mkdir(outdir, { recursive: true });
  const path = join(outdir, name);
  await writeFile(path, content);
  return path;
}
