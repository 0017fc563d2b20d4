/**
 * The crash test's workload, for any Store: deploy to a few workers in a loop and print one line per
 * acknowledged step on stdout, so the parent knows what must survive a SIGKILL:
 *   `deployed <worker> <n> <versionId>`   after activate resolved (version n, counting up from `start`)
 *   `routed <pattern> <worker>`           after putRoute resolved
 */
import type { Store } from '../../src/store/store.ts';
import { makeSpec } from './specs.ts';

export const LOOP_WORKERS = ['alpha', 'beta', 'gamma'] as const;

export async function deployLoop(store: Store, start: number): Promise<never> {
  for (let n = start; ; n++) {
    for (const worker of LOOP_WORKERS) {
      // Big enough that a kill often lands mid-write.
      const version = await store.putVersion(worker, makeSpec(`${worker} ${n}`, 64 * 1024));
      await store.activate(worker, version.id);
      process.stdout.write(`deployed ${worker} ${n} ${version.id}\n`);
      if (n % 3 === 0) {
        const route = await store.putRoute({ pattern: `${worker}.example.com/v${n % 5}/*`, worker });
        process.stdout.write(`routed ${route.pattern} ${worker}\n`);
      }
    }
  }
}
