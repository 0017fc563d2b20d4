/**
 * The bench's worker sources bundled into one ES module each, by `isolane deploy`'s own bundler
 * (src/cli/bundle.ts: esbuild as wrangler runs it), so the bench measures what a user would deploy.
 */
import { join } from 'node:path';
import { bundleWorker as bundleEntry } from '../../src/cli/bundle.ts';
import { ROOT } from './isolane-server.ts';

export const WORKERS_DIR = join(ROOT, 'bench', 'workers');
export const FIXTURES_DIR = join(ROOT, 'bench', 'fixtures');

/** A file of bench/workers/. */
export async function bundleWorker(file: string): Promise<string> {
  return (await bundleEntry(join(WORKERS_DIR, file))).content;
}

/** A file of bench/fixtures/. */
export async function bundleFixture(file: string): Promise<string> {
  return (await bundleEntry(join(FIXTURES_DIR, file))).content;
}
