/**
 * A serving process, one of the cluster the primary supervises: its own HTTP server on the shared
 * data-plane port (the primary accepts connections and hands them round-robin to the processes) and its
 * own isolates, so a request is parsed, run and answered on one thread with no hand-off. A tenant's code
 * can hold this thread for at most its CPU limit per slice; the other processes keep serving. A crash
 * (a fatal V8 error, a native fault, the kernel's OOM killer) takes down only this process's connections:
 * the primary starts another. What is live arrives from the primary as changes, first the whole of it.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { Server as NetServer, type AddressInfo, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { IsolaneError } from '../errors.ts';
import { answerClientError, refuseConnect } from '../http/client-error.ts';
import { sendError } from '../http/error-response.ts';
import { createDataPlane } from '../http/data-plane.ts';
import { acceptUpgrade, closeAllWebSockets, isWebSocketUpgrade } from '../http/websocket-upgrade.ts';
import { ExecutorClient } from '../isolates/executor-client.ts';
import { HeavyWorkers } from '../limits/heavy-workers.ts';
import { QUICK_START_CPU_MS, SlowStarts } from '../limits/slow-starts.ts';
import { LimitStrikes } from '../limits/limit-strikes.ts';
import { executorShares } from '../limits/executor-shares.ts';
import { isolateMappingBudget } from '../limits/map-count.ts';
import type { MeterSink } from '../metering/meter.ts';
import { Admission } from '../limits/admission.ts';
import { setTimerSlackNs } from '../limits/thread-cpu.ts';
import { LiveDeployments } from '../live/live-deployments.ts';
import type { Route, Version } from '../types.ts';
import { runScheduledEvent } from '../triggers/scheduled-event.ts';
import { ForwardMeter } from './forward-meter.ts';
import { InvocationRoutes } from './invocation-routes.ts';
import { SLOW_START_MS, VersionBuilds } from './version-builds.ts';
import type { FromServing, ServingInit, ServingProcessData, ToServing } from './protocol.ts';
import { loopbackOrigin } from '../outbound/service-call.ts';
import { unsetYoungGenerationFlag } from './young-generation.ts';

const post = (message: FromServing, sent?: () => void) => {
  if (process.connected) process.send!(message, undefined, undefined, sent);
};
// The primary coordinates shutdown (SIGTERM reaches the whole process group from a terminal or an init
// system): this process waits for its 'shutdown' message. Without a primary it has no reason to live,
// and it ends by a signal to itself: process.exit joins the offload thread, whose teardown can wait for
// good on isolated-vm disposing an isolate, and an orphan nobody kills would then never end. Nothing is
// lost that exiting would keep: its records and log lines go to the primary, which is gone.
process.on('SIGTERM', () => {});
process.on('SIGINT', () => {});
// (First in line: the cluster module's own listener calls process.exit.)
process.prependListener('disconnect', () => process.kill(process.pid, 'SIGKILL'));

// The configuration comes first; the changes sent right behind it (in the same IPC read) wait for it.
const early: ToServing[] = [];
let onMessage: ((message: ToServing) => void) | null = null;
const init = await new Promise<ServingInit>((resolve) =>
  process.on('message', (message: ToServing) => {
    if (message.t === 'init') resolve(message);
    else if (onMessage) onMessage(message);
    else early.push(message);
  }),
);
const data: ServingProcessData = init.data;
const HEAVY_COOL_DOWN_MS = 30_000;
const STATS_EVERY_MS = 1000;
/** While draining, connections idle this long are closed (their clients had time to send a request). */
const IDLE_SWEEP_MS = 1000;
/** While draining, how often to look whether the work after the responses is done. */
const DRAIN_POLL_MS = 20;
// Batches the wake-ups of isolated-vm's timeout threads (created from this thread); see thread-cpu.ts.
setTimerSlackNs(1_000_000);
// Before the first isolate: the flag that sized this process's heap would size the tenants' too.
unsetYoungGenerationFlag();

const forward = new ForwardMeter(post);
const onLog = (line: { worker: string; requestId: string | null; level: string; message: string }) => forward.console(line.worker, line.requestId, line.level, line.message);
const executorOptions = { idleGcMs: data.idleGcMs, fetchAllow: data.fetchAllow, codeCacheDir: data.codeCacheDir, kvDir: data.kvDir, d1: data.d1, services: { origin: loopbackOrigin(data.host, data.port), token: data.serviceToken } };
// The process's warm-isolate bounds, shared by its two threads (limits/executor-shares.ts).
const { serving: servingPool, offload: offloadPool } = executorShares(data.pool, isolateMappingBudget());
const executor = ExecutorClient.inThread(data.runtime, { ...executorOptions, pool: servingPool, quickStartCpuMs: QUICK_START_CPU_MS }, onLog);
// Before the process listens: the first request should not pay for the executor's warm-up.
executor.start();
// Workers allowed long CPU, or that ran into their CPU limit lately (heavy-workers.ts), and versions slow
// to start (slow-starts.ts) run on a thread of their own. Started on first need (~300 ms, ~36 MB of RSS).
const offload = ExecutorClient.onOwnThread(data.runtime, { ...executorOptions, pool: offloadPool, quickStartCpuMs: null }, onLog);
const heavy = new HeavyWorkers(HEAVY_COOL_DOWN_MS);
const slowStarts = new SlowStarts(SLOW_START_MS);
// Where invocations run (invocation-routes.ts) and deploys are built (version-builds.ts).
const invocations = new InvocationRoutes(executor, offload, heavy, slowStarts);
const builds = new VersionBuilds(executor, offload, slowStarts);
// Workers that keep ending at their limits are refused for a while rather than run (limit-strikes.ts).
const strikes = new LimitStrikes();
const meter: MeterSink = {
  invocation(record) {
    if (record.outcome === 'exceededCpu') heavy.mark(record.worker);
    // A cold start that failed (no initMs) costs an isolate's build each time, as a limit ending does.
    if (record.outcome === 'exceededCpu' || record.outcome === 'exceededMemory' || (record.cold && record.initMs === null && record.outcome === 'exception')) strikes.strike(record.worker);
    if (record.cold && record.initMs !== null) slowStarts.note(record.version, record.initMs);
    forward.invocation(record);
  },
  console: (...args) => forward.console(...args),
};
const live = new LiveDeployments(data.workersDomain);
const versions = new Map<string, Version>();
let routes: Route[] = [];

let requests = 0;
let draining = false;
const admission = new Admission({ queueFactor: 4, maxWaitMs: 1000 });
const handleRequest = createDataPlane({ live, executorFor: (version) => invocations.executorFor(version), admission, blockedFor: (worker) => strikes.blockedFor(worker), meter, maxRequestBytes: data.maxRequestBytes, sendStallMs: data.sendStallMs, serviceToken: data.serviceToken });
/** Every request, counted; a draining process closes each connection after its response. */
function dataPlane(req: IncomingMessage, res: ServerResponse): void {
  requests++;
  if (draining) res.shouldKeepAlive = false;
  handleRequest(req, res);
}
const server = createServer(
  { keepAliveTimeout: 65_000, headersTimeout: data.headersTimeoutMs, requestTimeout: 300_000,
    // Node checks those timeouts on this period (30 s by default): often enough for the headers timeout to mean it.
    connectionsCheckingInterval: Math.min(30_000, Math.max(100, data.headersTimeoutMs / 4)), requireHostHeader: false,
    // WebSocket upgrades come to 'upgrade' below; any other Upgrade header is an ordinary request.
    shouldUpgradeCallback: isWebSocketUpgrade,
    // A request with neither Content-Length nor Transfer-Encoding has no body (RFC 9112 §6.3): its body
    // stream starts ended, so Node skips the resume, 'end' and 'close' of an unread stream per request.
    optimizeEmptyRequests: true },
  dataPlane,
);
server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => acceptUpgrade(req, socket, head, dataPlane));
server.on('clientError', answerClientError);
// Node answers these itself when nobody listens: 100 Continue before the request is even routed,
// a bare 417, and a closed socket for CONNECT. The data plane answers them, in JSON.
server.on('checkContinue', dataPlane);
server.on('checkExpectation', (_req, res) => sendError(res, 'ISO_ERR_HTTP_EXPECTATION_FAILED'));
server.on('connect', (_req, socket: Socket) => refuseConnect(socket));
// In a cluster process the primary owns the listening socket: every process listening on the same port shares it.
server.listen({ port: data.port, host: data.host }, () => post({ t: 'listening', port: (server.address() as AddressInfo).port }));
// What the primary needs to recycle a process before its memory creeps too far.
setInterval(() => {
  const reductions = [executor.memoryReductions, offload.memoryReductions];
  post({
    t: 'stats',
    rss: process.memoryUsage.rss(),
    requests,
    memoryReductions: reductions[0]!.count + reductions[1]!.count,
    memoryReductionCpuUs: reductions[0]!.cpuUs + reductions[1]!.cpuUs,
    platformCpuUs: executor.platformCpuUs + offload.platformCpuUs,
    warmIsolates: executor.pool.warm + offload.pool.warm,
    evictedIsolates: executor.pool.evicted + offload.pool.evicted,
  });
}, STATS_EVERY_MS).unref();

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
      slowStarts.forget(versionId);
    }
    retired = [];
    post({ t: 'applied', seq: appliedSeq });
  });
}

/** Resolves once neither executor has an invocation in flight, or at `deadline` (ms since the epoch). */
function untilNoInvocations(deadline: number): Promise<void> {
  return new Promise((resolve) => {
    const check = () => {
      if (executor.inFlight + offload.inFlight === 0 || Date.now() >= deadline) resolve();
      else setTimeout(check, DRAIN_POLL_MS);
    };
    check();
  });
}

/** A version that failed to build is not kept (its modules stay in memory otherwise) unless it is live here already. */
/** Unloads a version from both executors (its isolates and code caches) unless it is the worker's live one. */
function dropUnlessLive(worker: string, versionId: string): void {
  if (versions.get(worker)?.id === versionId) return;
  executor.unload(versionId);
  offload.unload(versionId);
}

onMessage = (message: ToServing) => {
  switch (message.t) {
    case 'init':
      return;
    case 'worker': {
      const previous = versions.get(message.name);
      if (message.version) versions.set(message.name, message.version);
      else {
        versions.delete(message.name);
        executor.forgetWorker(message.name);
        offload.forgetWorker(message.name);
        admission.forget(message.name);
      }
      if (previous && previous.id !== message.version?.id) retired.push(previous.id);
      applied(message.seq);
      return;
    }
    case 'routes':
      routes = message.routes;
      applied(message.seq);
      return;
    case 'validate':
      // The build's console lines (its top-level code's) go first: the deploy is answered on 'validated',
      // and a client that reads the worker's log next should find them.
      builds.validate(message.version).then(
        ({ syntax }) => {
          forward.flush();
          post({ t: 'validated', jobId: message.jobId, error: null, syntax });
        },
        (err: unknown) => {
          const error = err instanceof IsolaneError ? err : new IsolaneError('ISO_ERR_DEPLOY_STARTUP', String(err));
          forward.flush();
          post({ t: 'validated', jobId: message.jobId, error: { code: error.code, message: error.message, details: error.details }, syntax: null });
          dropUnlessLive(message.version.worker, message.version.id);
        },
      );
      return;
    case 'discard':
      dropUnlessLive(message.worker, message.versionId);
      return;
    case 'scheduled': {
      const version = versions.get(message.trigger.worker);
      if (!version) {
        post({ t: 'scheduledDone', jobId: message.jobId, record: null });
        return;
      }
      void runScheduledEvent(message.trigger, version, invocations.executorFor(version), meter).then((record) => post({ t: 'scheduledDone', jobId: message.jobId, record }));
      return;
    }
    case 'shutdown': {
      // Stop taking connections (the primary hands new ones to the other processes) but keep the open ones:
      // each gets its next response with Connection: close, so its client stops reusing it without racing a
      // close by the server. Connections that stay idle are closed a second later, and everything at the grace.
      draining = true;
      // Work after the responses (waitUntil, cron events) may go on until a second before the grace ends;
      // the executors' close then cancels what is left, which takes up to two more seconds for an offload
      // thread stuck in tenant code (the primary kills the process two seconds after the grace).
      const workUntil = Date.now() + message.graceMs - 1000;
      const stop = () => {
        void untilNoInvocations(workUntil)
          .then(() => Promise.all([executor.close(), offload.close()]))
          .then(() => {
            // The records of the invocations the close ended are in now. Exit once no spare isolate is
            // still being prepared (isolated-vm can abort at exit then) and the last metering message is
            // written to the primary.
            forward.flush();
            post({ t: 'stopped' }, () => process.exit(0));
          });
      };
      const grace = setTimeout(() => server.closeAllConnections(), message.graceMs);
      // WebSockets have no next response to carry a Connection: close: they are told 1001 now, and their
      // clients reconnect (to the replacement, when this process is recycled).
      closeAllWebSockets();
      const sweep = setInterval(() => server.closeIdleConnections(), IDLE_SWEEP_MS);
      // net.Server's close, not http.Server's: the latter would also close idle connections at once.
      NetServer.prototype.close.call(server, () => {
        clearTimeout(grace);
        clearInterval(sweep);
        setImmediate(stop);
      });
      return;
    }
  }
};
for (const message of early.splice(0)) onMessage(message);
