/**
 * A serving thread: its own HTTP listener on the shared data-plane port (SO_REUSEPORT: the kernel spreads
 * connections over the threads) and its own isolates, so a request is parsed, run and answered on one
 * thread with no hand-off. A tenant's code can hold this thread for at most its CPU limit per slice;
 * the other threads keep serving. What is live arrives from the main thread as changes.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parentPort, workerData } from 'node:worker_threads';
import { IsolaneError } from '../errors.ts';
import { createDataPlane } from '../http/data-plane.ts';
import { ExecutorClient } from '../isolates/executor-client.ts';
import { HeavyWorkers } from '../limits/heavy-workers.ts';
import type { MeterSink } from '../metering/meter.ts';
import { Admission } from '../limits/admission.ts';
import { setTimerSlackNs } from '../limits/thread-cpu.ts';
import { LiveDeployments } from '../live/live-deployments.ts';
import type { Route, Version } from '../types.ts';
import { ForwardMeter } from './forward-meter.ts';
import type { FromServing, ServingThreadData, ToServing } from './protocol.ts';

const port = parentPort!;
const data = workerData as ServingThreadData;
const post = (message: FromServing) => port.postMessage(message);
const HEAVY_COOL_DOWN_MS = 30_000;
// Batches the wake-ups of isolated-vm's timeout threads (created from this thread); see thread-cpu.ts.
setTimerSlackNs(1_000_000);

const forward = new ForwardMeter(post);
const onLog = (line: { worker: string; requestId: string | null; level: string; message: string }) => forward.console(line.worker, line.requestId, line.level, line.message);
const executorOptions = { pool: data.pool, fetchAllow: data.fetchAllow };
const executor = ExecutorClient.inThread(data.runtimeCode, executorOptions, onLog);
// Workers that ran into their CPU limit run on a thread of their own for a while (heavy-workers.ts).
const offload = ExecutorClient.onOwnThread(data.runtimeCode, executorOptions, onLog);
const heavy = new HeavyWorkers(HEAVY_COOL_DOWN_MS);
const meter: MeterSink = {
  invocation(record) {
    if (record.outcome === 'exceededCpu') heavy.mark(record.worker);
    forward.invocation(record);
  },
  console: (...args) => forward.console(...args),
};
const live = new LiveDeployments(data.workersDomain);
const versions = new Map<string, Version>();
let routes: Route[] = [];

const server = createServer(
  { keepAliveTimeout: 65_000, headersTimeout: 60_000, requestTimeout: 300_000, requireHostHeader: false },
  createDataPlane({ live, executorFor: (worker) => (heavy.has(worker) ? offload : executor), admission: new Admission({ queueFactor: 4, maxWaitMs: 1000 }), meter, maxRequestBytes: data.maxRequestBytes }),
);
server.listen({ port: data.port, host: data.host, reusePort: true }, () => post({ t: 'listening', port: (server.address() as AddressInfo).port }));

// Changes arrive in bursts (all workers at start, several per deploy): the routing table is rebuilt once
// per burst, after the last message of this turn, and only then are they acknowledged.
let appliedSeq = -1;
let rebuildScheduled = false;
/** Versions no longer live: their isolates retire once the new table no longer routes to them. */
let retired: string[] = [];
function applied(seq: number): void {
  appliedSeq = Math.max(appliedSeq, seq);
  if (rebuildScheduled) return;
  rebuildScheduled = true;
  setImmediate(() => {
    rebuildScheduled = false;
    live.replace(routes, versions);
    for (const versionId of retired) {
      executor.unload(versionId);
      offload.unload(versionId);
    }
    retired = [];
    post({ t: 'applied', seq: appliedSeq });
  });
}

port.on('message', (message: ToServing) => {
  switch (message.t) {
    case 'worker': {
      const previous = versions.get(message.name);
      if (message.version) versions.set(message.name, message.version);
      else versions.delete(message.name);
      if (previous && previous.id !== message.version?.id) retired.push(previous.id);
      applied(message.seq);
      return;
    }
    case 'routes':
      routes = message.routes;
      applied(message.seq);
      return;
    case 'validate':
      executor.validate(message.version).then(
        (syntax) => post({ t: 'validated', jobId: message.jobId, error: null, syntax }),
        (err: unknown) => {
          const error = err instanceof IsolaneError ? err : new IsolaneError('ISO_ERR_DEPLOY_STARTUP', String(err));
          post({ t: 'validated', jobId: message.jobId, error: { code: error.code, message: error.message, details: error.details }, syntax: null });
          // A version that failed to build is not kept unless it is live here already.
          if (versions.get(message.version.worker)?.id !== message.version.id) executor.unload(message.version.id);
        },
      );
      return;
    case 'warm':
      executor.validate(message.version).catch(() => executor.unload(message.version.id));
      return;
    case 'shutdown': {
      // New connections are refused at once; idle keep-alive ones close; busy ones finish their request.
      const stop = () => {
        forward.flush();
        executor.close();
        offload.close();
        port.close();
      };
      const grace = setTimeout(() => server.closeAllConnections(), message.graceMs);
      // A keep-alive connection goes idle once its response is sent: close it then, not at its timeout.
      const sweep = setInterval(() => server.closeIdleConnections(), 50);
      server.close(() => {
        clearTimeout(grace);
        clearInterval(sweep);
        setImmediate(stop);
      });
      server.closeIdleConnections();
      return;
    }
  }
});
