/**
 * The serving processes run with an 8 MB young generation of their own (src/serving/young-generation.ts),
 * and their tenant isolates keep the one isolated-vm sizes from the memory limit (1 MB a semi-space for
 * 128 MB). V8's GC trace gives each heap's new-space capacity; the isolate made after the main heap is
 * isolate 1.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import t from 'tap';
import { servingExecArgv } from '../../src/serving/young-generation.ts';

const CHILD = join(import.meta.dirname, '..', 'helpers', 'young-generation-child.ts');
const MB = 1024 * 1024;

/** The largest new-space capacity each isolate's scavenges report, by V8's isolate number. */
function newSpaceByIsolate(args: string[]): Map<number, number> {
  const out = execFileSync(process.execPath, ['--no-node-snapshot', ...servingExecArgv(['--max-semi-space-size=8']), '--trace-gc-nvp', CHILD, ...args], { encoding: 'utf8', maxBuffer: 64 * MB });
  const capacity = new Map<number, number>();
  for (const line of out.split('\n')) {
    const match = /^\[\d+:0x[0-9a-f]+:(\d+)\].* gc=s .*new_space_capacity=(\d+)/.exec(line);
    if (match) capacity.set(Number(match[1]), Math.max(capacity.get(Number(match[1])) ?? 0, Number(match[2])));
  }
  return capacity;
}

t.test("serving processes' flags replace the primary's young generation with their own", async (t) => {
  t.same(servingExecArgv(['--no-node-snapshot', '--max-semi-space-size=16', '--trace-gc']), ['--no-node-snapshot', '--trace-gc', '--max-semi-space-size=8']);
});

t.test('a tenant isolate keeps its own young generation once the flag is cleared', async (t) => {
  const cleared = newSpaceByIsolate([]);
  t.ok(cleared.has(1), 'the isolate collected its young generation');
  t.equal(cleared.get(1), 1 * MB, 'its semi-space stays at 1 MB');
  // Without clearing: the isolate takes the process's flag (isolated-vm's own reset at load misses it).
  const kept = newSpaceByIsolate(['keep-flag']);
  t.ok(kept.get(1)! >= 4 * MB, `with the flag left set it grows to ${kept.get(1)! / MB} MB`);
});
