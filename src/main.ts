/**
 * Wiring only: config → store → runtime bundle → executors → live deployments → HTTP servers.
 * Store changes flow one way into what is live (routing table, versions) and into the executors
 * (old versions retire); no room imports a sibling to learn about changes.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import { createAdminApp } from './admin/app.ts';
import { adminToken } from './config/admin-token.ts';
import type { Config } from './config/config.ts';
import { createDataPlane } from './http/data-plane.ts';
import { ExecutorPool } from './isolates/executor-pool.ts';
import { buildRuntimeBundle } from './isolates/runtime-bundle.ts';
import { Admission } from './limits/admission.ts';
import { LiveDeployments } from './live/live-deployments.ts';
import { Logger } from './log/logger.ts';
import { Meter } from './metering/meter.ts';
import { UsageLog } from './metering/usage.ts';
import { WorkerLogs } from './metering/worker-logs.ts';
import { openFsStore } from './store/fs-store.ts';
import type { Store, StoreChange } from './store/store.ts';
import type { Route, Version } from './types.ts';

export interface Isolane {
  dataUrl: string;
  adminUrl: string;
  token: string;
  close(): Promise<void>;
}

export async function startIsolane(config: Config): Promise<Isolane> {
  const logger = new Logger(config.log === 'stdout' ? process.stdout : null);
  const store = await openFsStore(config.dataDir);
  // Leftovers of a crash mid-deploy (temp files, versions never activated) go before anything is served.
  const { removed } = await store.cleanup();
  if (removed.length > 0) logger.write({ type: 'store-cleanup', time: new Date().toISOString(), removed });
  const { token, generated } = await adminToken(config.adminToken, config.dataDir);
  const runtimeCode = await buildRuntimeBundle();

  const usage = new UsageLog();
  const workerLogs = new WorkerLogs();
  const meter = new Meter(logger, usage, workerLogs);
  const executors = new ExecutorPool(
    config.executors,
    runtimeCode,
    {
      maxIsolates: Math.ceil(config.maxIsolates / config.executors),
      maxMemoryBytes: Math.ceil((config.maxIsolateMemoryMb * 1024 * 1024) / config.executors),
      idleMs: config.idleMs,
    },
    (line) => meter.console(line.worker, line.requestId, line.level, line.message),
  );

  const live = new LiveDeployments(config.workersDomain);
  const sync = liveSync(store, live, executors);
  await sync.all();
  const unsubscribe = store.onChange((change) => sync.change(change));

  const dataPlane = createServer(
    { keepAliveTimeout: 65_000, headersTimeout: 60_000, requestTimeout: 300_000, requireHostHeader: false },
    createDataPlane({ live, executors, admission: new Admission({ queueFactor: 4, maxWaitMs: 1000 }), meter, maxRequestBytes: config.maxRequestBytes }),
  );
  const admin = createAdaptorServer({
    fetch: createAdminApp({ store, executors, usage, workerLogs, token, maxScriptBytes: config.maxScriptBytes, settled: () => sync.settled() }).fetch,
  }) as Server;
  const [dataPort, adminPort] = await Promise.all([listen(dataPlane, config.port, config.host), listen(admin, config.adminPort, config.host)]);

  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  const result: Isolane = {
    dataUrl: `http://${host}:${dataPort}`,
    adminUrl: `http://${host}:${adminPort}`,
    token,
    async close() {
      unsubscribe();
      await Promise.all([closeServer(dataPlane), closeServer(admin)]);
      await executors.close();
      logger.flush();
    },
  };
  logger.write({ type: 'ready', time: new Date().toISOString(), dataPlane: result.dataUrl, admin: result.adminUrl, dataDir: config.dataDir, executors: config.executors, ...(generated ? { adminToken: token, note: 'generated admin token, kept in the data dir' } : {}) });
  logger.flush();
  return result;
}

/** Keeps LiveDeployments equal to the store: everything at start, then one worker or the routes per change. */
function liveSync(store: Store, live: LiveDeployments, executors: ExecutorPool) {
  const versions = new Map<string, Version>();
  let routes: Route[] = [];
  let queue: Promise<void> = Promise.resolve();

  const reloadWorker = async (name: string) => {
    const worker = await store.getWorker(name);
    const version = worker ? await store.getVersion(name, worker.activeVersion) : null;
    const previous = versions.get(name);
    if (version) versions.set(name, version);
    else versions.delete(name);
    if (previous && previous.id !== version?.id) executors.unload(previous.id);
  };
  const enqueue = (task: () => Promise<void>) => {
    queue = queue.then(task).then(
      () => live.replace(routes, versions),
      (err: unknown) => process.emitWarning(`could not apply a store change: ${String(err)}`),
    );
    return queue;
  };

  return {
    all: () =>
      enqueue(async () => {
        routes = await store.listRoutes();
        for (const worker of await store.listWorkers()) await reloadWorker(worker.name);
      }),
    change: (change: StoreChange) =>
      void enqueue(async () => {
        if (change.kind === 'routes') routes = await store.listRoutes();
        else await reloadWorker(change.name);
      }),
    /** Resolves once every change seen so far is live. */
    settled: () => queue,
  };
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
