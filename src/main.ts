/**
 * Wiring only: config → store → runtime bundle → serving processes (data plane + isolates) → admin API.
 * This process is the primary: it holds the store, the admin API and metering, and supervises the
 * serving processes (src/serving/serving-pool.ts).
 * Store changes flow one way: the store emits, this file reads the changed worker or routes and hands
 * them to the serving processes; the admin API answers a change once every process serves it.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import { createAdminApp } from './admin/app.ts';
import { answerClientError } from './http/client-error.ts';
import { adminToken, adminTokenFile } from './config/admin-token.ts';
import type { Config } from './config/config.ts';
import { CodeCacheFiles } from './isolates/code-cache-files.ts';
import { buildRuntimeBundle } from './isolates/runtime-bundle.ts';
import { Logger } from './log/logger.ts';
import { warmIsolatesAtMost } from './limits/address-space.ts';
import { Meter } from './metering/meter.ts';
import { batchLines } from './metering/record.ts';
import { UsageLog } from './metering/usage.ts';
import { WorkerLogs } from './metering/worker-logs.ts';
import { ServingPool } from './serving/serving-pool.ts';
import { openFsStore } from './store/fs-store.ts';
import type { Store, StoreChange } from './store/store.ts';
import { CronScheduler } from './triggers/cron-scheduler.ts';
import { KvNamespaces } from './kv/kv-namespace.ts';
import { D1Processes } from './d1/d1-processes.ts';

/** How long the admin API waits for a request's whole body. */
const ADMIN_REQUEST_TIMEOUT_MS = 60_000;

export interface Isolane {
  dataUrl: string;
  adminUrl: string;
  token: string;
  /** Stops accepting requests, lets in-flight ones finish for up to `graceMs`, flushes the logs. */
  close(graceMs?: number): Promise<void>;
}

export async function startIsolane(config: Config): Promise<Isolane> {
  const logger = new Logger(config.log === 'stdout' ? process.stdout : null);
  const store = await openFsStore(config.dataDir);
  // Leftovers of a crash mid-deploy (temp files, versions never activated) go before anything is served.
  const { removed } = await store.cleanup();
  if (removed.length > 0) logger.write({ type: 'store-cleanup', time: new Date().toISOString(), removed });
  const { token, generated } = await adminToken(config.adminToken, config.dataDir);
  const runtime = await buildRuntimeBundle();
  // Code caches of versions no longer live (the serving processes remove a version's when it goes); all
  // of them when the caches are kept in memory only.
  const codeCacheDir = join(config.dataDir, 'code-cache');
  const live = config.codeCache === 'disk' ? new Set((await store.listWorkers()).map((worker) => worker.activeVersion)) : new Set<string>();
  const swept = new CodeCacheFiles(codeCacheDir).sweep(live);
  if (swept.length > 0) logger.write({ type: 'code-cache-cleanup', time: new Date().toISOString(), versions: swept });

  const kvDir = join(config.dataDir, 'kv');
  const kv = new KvNamespaces(kvDir);
  const d1Settings = { dir: join(config.dataDir, 'd1'), timeoutMs: config.d1QueryTimeoutMs, maxBytes: config.d1MaxDatabaseMb * 1024 * 1024 };
  // The admin API's own D1 processes (each serving process has its executors').
  const d1 = new D1Processes(d1Settings);
  const usage = new UsageLog();
  const workerLogs = new WorkerLogs();
  const meter = new Meter(logger, usage, workerLogs);
  const serving = await ServingPool.start({
    processes: config.executors,
    recycle: { rssBytes: config.recycleRssMb * 1024 * 1024, requests: config.recycleRequests },
    hungAfterMs: config.hungAfterMs,
    onEvent: (event) => logger.write({ ...event, time: new Date().toISOString() }),
    runtime,
    host: config.host,
    port: config.port,
    workersDomain: config.workersDomain,
    maxRequestBytes: config.maxRequestBytes,
    headersTimeoutMs: config.headersTimeoutMs,
    sendStallMs: config.sendStallMs,
    fetchAllow: config.fetchAllow,
    pool: {
      maxIsolates: Math.ceil(config.maxIsolates / config.executors),
      maxMemoryBytes: Math.ceil((config.maxIsolateMemoryMb * 1024 * 1024) / config.executors),
      idleMs: config.idleMs,
    },
    idleGcMs: config.idleGcMs,
    codeCacheDir: config.codeCache === 'disk' ? codeCacheDir : null,
    kvDir,
    d1: d1Settings,
    // Known to the serving processes only: it lets a service-binding call through the data plane.
    serviceToken: randomBytes(24).toString('hex'),
    onMetering(batch) {
      // Console lines first: an invocation's REPORT line comes after what it printed, as in Lambda.
      for (const line of batch.lines) meter.console(line.worker, line.requestId, line.level, line.message, line.time);
      for (const line of batchLines(batch.records)) meter.invocation(line);
    },
  });

  // Each due cron trigger runs in a serving process; its record is metered there like a request's.
  const scheduler = new CronScheduler((trigger) => {
    serving.runScheduled(trigger).catch((err: unknown) =>
      logger.write({ type: 'scheduled-error', time: new Date().toISOString(), ...trigger, message: err instanceof Error ? err.message : String(err) }),
    );
  });
  const sync = liveSync(store, serving, scheduler);
  await sync.loadAll();
  const unsubscribe = store.onChange(sync.apply);

  const admin = createAdaptorServer({
    fetch: createAdminApp({ store, builder: serving, health: serving, triggers: { nextRuns: (worker) => scheduler.nextRuns(worker), runScheduled: (trigger) => serving.runScheduled(trigger) }, kv, d1, usage, workerLogs, token, maxScriptBytes: config.maxScriptBytes, workersDomain: config.workersDomain, settled: sync.settled }).fetch,
    // An upload that stops coming is given up after a minute at most (Node's default: 5 minutes, then
    // a bare 408), and answered in JSON as the data plane answers what Node's parser refuses.
    serverOptions: { requestTimeout: ADMIN_REQUEST_TIMEOUT_MS, connectionsCheckingInterval: ADMIN_REQUEST_TIMEOUT_MS / 4 },
  }) as Server;
  admin.on('clientError', answerClientError);
  const adminPort = await new Promise<number>((resolve, reject) => {
    admin.once('error', reject);
    admin.listen(config.adminPort, config.host, () => resolve((admin.address() as AddressInfo).port));
  });

  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  const result: Isolane = {
    dataUrl: `http://${host}:${serving.port}`,
    adminUrl: `http://${host}:${adminPort}`,
    token,
    async close(graceMs = 0) {
      unsubscribe();
      scheduler.close();
      kv.close();
      const adminClosed = new Promise<void>((resolve) => {
        admin.close(() => resolve());
        admin.closeIdleConnections();
      });
      await serving.close(graceMs);
      admin.closeAllConnections();
      await adminClosed;
      await d1.close();
      logger.write({ type: 'stopped', time: new Date().toISOString() });
      logger.flush();
    },
  };
  logger.write({
    type: 'ready',
    time: new Date().toISOString(),
    dataPlane: result.dataUrl,
    admin: result.adminUrl,
    dataDir: config.dataDir,
    servingProcesses: config.executors,
    // --max-isolates as the per-process ceiling leaves it (limits/address-space.ts): more take more processes.
    warmIsolatesAtMost: warmIsolatesAtMost(config.maxIsolates, config.executors),
    // The token itself stays out of the log, which operators ship elsewhere.
    ...(generated ? { adminTokenFile: adminTokenFile(config.dataDir), note: 'generated an admin token; it is in this file (mode 0600)' } : {}),
  });
  logger.flush();
  return result;
}

/**
 * Hands what is live to the serving processes, and workers' cron triggers to the scheduler: everything
 * at start, then each change in the store's order.
 */
function liveSync(store: Store, serving: ServingPool, scheduler: CronScheduler) {
  let queue: Promise<void> = Promise.resolve();
  const setWorker = async (name: string) => {
    const worker = await store.getWorker(name);
    serving.setWorker(name, worker ? await store.getVersion(name, worker.activeVersion) : null);
    scheduler.set(name, worker?.schedules ?? []);
  };
  return {
    async loadAll(): Promise<void> {
      for (const worker of await store.listWorkers()) await setWorker(worker.name);
      serving.setRoutes(await store.listRoutes());
      await serving.settled();
    },
    apply(change: StoreChange): void {
      queue = queue
        .then(async () => (change.kind === 'routes' ? serving.setRoutes(await store.listRoutes()) : setWorker(change.name)))
        .catch((err: unknown) => process.emitWarning(`could not apply a store change: ${String(err)}`));
    },
    /** Resolves once every change seen so far is served by every thread. */
    settled: (): Promise<void> => queue.then(() => serving.settled()),
  };
}
