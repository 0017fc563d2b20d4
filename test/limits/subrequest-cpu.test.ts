/**
 * Setting a subrequest up is the platform's work (executor.ts, `asPlatformWork`), as sending it is: the
 * host's side of a fetch() call, which a process's first fetch makes expensive (the egress agent is built
 * inside whichever tenant's slice asked), is neither charged to the worker nor stopped by its CPU limit.
 * Real isolates, runtime and HTTP upstream; the host's set-up is made to take 10 ms of CPU (an
 * AbortController that computes as it is made: Subrequests.run makes one per fetch), for a worker
 * limited to 5 ms.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { Executor } from '../../src/isolates/executor.ts';
import type { FromExecutor } from '../../src/isolates/protocol.ts';
import { buildRuntimeBundle } from '../../src/isolates/runtime-bundle.ts';
import { threadCpuUs } from '../../src/limits/thread-cpu.ts';
import { executorEnds, moduleVersion } from '../helpers/executor-ends.ts';

const CPU_LIMIT_MS = 5;
const SET_UP_US = 10_000;

const upstream = http.createServer((_req, res) => res.end('upstream'));
await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
t.teardown(() => upstream.close());
const { port } = upstream.address() as AddressInfo;

/** While `slowSetUps` > 0, each AbortController made on this thread burns SET_UP_US of its CPU first. */
let slowSetUps = 0;
const HostAbortController = globalThis.AbortController;
globalThis.AbortController = class extends HostAbortController {
  constructor() {
    super();
    if (slowSetUps === 0) return;
    slowSetUps--;
    const end = threadCpuUs() + SET_UP_US;
    while (threadCpuUs() < end);
  }
};
t.teardown(() => {
  globalThis.AbortController = HostAbortController;
});

const messages: FromExecutor[] = [];
const executor = new Executor(
  await buildRuntimeBundle(),
  { pool: { maxIsolates: 10, maxMemoryBytes: 1e10, idleMs: 600_000 }, idleGcMs: 0, fetchAllow: ['127.0.0.1'], codeCacheDir: null, quickStartCpuMs: null },
  (m) => messages.push(m),
);
t.teardown(() => executor.close());

function load(id: string, content: string): void {
  executor.handle({ t: 'load', version: moduleVersion(id, content, CPU_LIMIT_MS) });
}

let nextId = 0;
function invoke(versionId: string): number {
  const id = ++nextId;
  executor.handle({ t: 'invoke', id, requestId: `r${id}`, worker: versionId, versionId, deadline: Date.now() + 10_000, request: { method: 'GET', url: `http://${versionId}.test/`, headers: `host\n${versionId}.test`, body: null } });
  return id;
}

t.test("a fetch's set-up on the host is not the worker's CPU", async (t) => {
  load('proxy', `export default { async fetch() { return new Response('got ' + await (await fetch('http://127.0.0.1:${port}/')).text()) } }`);
  // The isolate's first request compiles the runtime's fetch path: that is the worker's own CPU.
  const [warm] = await executorEnds(messages, [invoke('proxy')]);
  t.equal(warm!.outcome, 'ok', 'a first request, without the slow set-up');
  slowSetUps = 1;
  const before = threadCpuUs();
  const [end] = await executorEnds(messages, [invoke('proxy')]);
  t.equal(slowSetUps, 0, 'the set-up ran');
  t.ok(threadCpuUs() - before >= SET_UP_US, 'on the thread that ran the worker');
  t.equal(end!.outcome, 'ok', `not stopped at the worker's ${CPU_LIMIT_MS} ms limit`);
  t.ok(end!.cpuUs < CPU_LIMIT_MS * 1000, `charged ${Math.round(end!.cpuUs)} µs, not the set-up's ${SET_UP_US / 1000} ms`);
  t.match(messages.find((m) => m.t === 'response' && m.id === end!.id), { status: 200, body: 'got upstream' }, 'and it answered');
});
