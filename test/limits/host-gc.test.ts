/**
 * A garbage collection of the host's own heap that happens inside a tenant's slice (during a host call
 * that allocates) is the platform's work: neither charged to the tenant nor counted against its limit
 * (native/isolate-watchdog.cc HostGc, src/limits/watchdog.ts clockUs).
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import t from 'tap';
import { buildRuntimeBundle } from '../../src/isolates/runtime-bundle.ts';
import { TenantIsolate } from '../../src/isolates/tenant-isolate.ts';
import { threadCpuUs } from '../../src/limits/thread-cpu.ts';
import { DEFAULT_LIMITS } from '../../src/types.ts';
import { moduleVersion } from '../helpers/executor-ends.ts';

setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

t.test('a host collection inside a slice is not the tenant\'s CPU, nor against its limit', async (t) => {
  // A host heap big enough that a full collection takes the thread well past the slice's limit.
  const kept: object[] = [];
  for (let i = 0; i < 1.5e6; i++) kept.push({ i, text: `item ${i}` });
  t.teardown(() => void kept.splice(0));
  const runtime = await buildRuntimeBundle();
  let collectInHostCall = false;
  const version = moduleVersion('hostgc', `export default { fetch() { console.log('a host call'); return new Response('ok') } }`, DEFAULT_LIMITS.cpuMs);
  const tenant = TenantIsolate.create(version, runtime, (op) => {
    if (op === 'log' && collectInHostCall) collectGarbage();
    return undefined;
  });
  t.teardown(() => tenant.dispose());
  let id = 0;
  const request = (budgetMs: number) => tenant.enter(['request', ++id, 'GET', 'http://hostgc.test/', 'host\nhostgc.test', null], budgetMs);

  request(1000); // warm
  const quiet = request(1000);
  collectInHostCall = true;
  const before = threadCpuUs();
  const collected = request(10);
  const threadUs = threadCpuUs() - before;
  t.ok(threadUs > 10_000, `the collection took the thread ${(threadUs / 1000).toFixed(1)} ms of CPU inside the slice`);
  t.equal(collected.failure, null, 'a slice with a 10 ms limit was not stopped for it');
  t.ok(collected.cpuUs < quiet.cpuUs + 3000, `charged ${(collected.cpuUs / 1000).toFixed(2)} ms (without the collection: ${(quiet.cpuUs / 1000).toFixed(2)} ms)`);
});
