/** A serving process's bounds split between its serving and offload threads (executor-shares.ts). */
import t from 'tap';
import { MAX_ISOLATES_PER_PROCESS } from '../../src/limits/address-space.ts';
import { executorShares } from '../../src/limits/executor-shares.ts';

t.test('the offload thread gets a quarter of each bound, the serving thread the rest', async (t) => {
  const { serving, offload } = executorShares({ maxIsolates: 1000, maxMemoryBytes: 4_000_000_001, idleMs: 7 }, 65_001);
  t.same([serving.maxIsolates, offload.maxIsolates], [750, 250]);
  t.equal(serving.maxMemoryBytes + offload.maxMemoryBytes, 4_000_000_001, 'the memory bound is shared whole');
  t.equal(serving.maxMappings! + offload.maxMappings!, 65_001, 'so is the mapping budget');
  t.ok(serving.maxMappings! > offload.maxMappings! * 2, 'mostly to the serving thread');
  t.equal(serving.idleMs, 7, 'other options are kept');
});

t.test('the address-space ceiling applies before the split', async (t) => {
  const { serving, offload } = executorShares({ maxIsolates: 100_000, maxMemoryBytes: 1 }, null);
  t.equal(serving.maxIsolates + offload.maxIsolates, MAX_ISOLATES_PER_PROCESS);
  t.equal(serving.maxMappings, null, 'no mapping bound where the OS has none');
});

t.test('a process allowed one isolate still serves', async (t) => {
  t.equal(executorShares({ maxIsolates: 1, maxMemoryBytes: 1 }, 10).serving.maxIsolates, 1);
});
