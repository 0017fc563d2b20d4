/** Bundles worker source that imports npm packages into one ES module, as wrangler would. */
import { build } from 'esbuild';

export async function bundleWorker(contents: string, resolveDir: string): Promise<string> {
  const result = await build({
    stdin: { contents, resolveDir, loader: 'js' },
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    mainFields: ['module', 'main'],
    // The runtime's own modules, left as imports (as wrangler does under nodejs_compat).
    external: ['node:*', 'cloudflare:*'],
    write: false,
    logLevel: 'silent',
  });
  return result.outputFiles[0]!.text;
}
