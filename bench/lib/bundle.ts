/** The bench's worker sources (bench/workers/), bundled into one ES module each as wrangler would. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { ROOT } from './isolane-server.ts';

export const WORKERS_DIR = join(ROOT, 'bench', 'workers');

export async function bundleWorker(file: string): Promise<string> {
  const path = join(WORKERS_DIR, file);
  const result = await build({
    stdin: { contents: readFileSync(path, 'utf8'), resolveDir: ROOT, sourcefile: path, loader: 'js' },
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    mainFields: ['module', 'main'],
    minify: false,
    write: false,
    logLevel: 'silent',
  });
  return result.outputFiles[0]!.text;
}
