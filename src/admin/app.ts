/**
 * The admin API (Hono): deploy and manage workers and routes, read usage, logs and metrics.
 * Every route but /healthz and /readyz needs the bearer token. Errors are JSON: {"error": {"code", "message"}}.
 */
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { IsolaneError } from '../errors.ts';
import { renderPrometheus } from '../metering/prometheus.ts';
import type { UsageLog } from '../metering/usage.ts';
import type { WorkerLogs } from '../metering/worker-logs.ts';
import { parseRoutePattern } from '../routing/index.ts';
import type { Store } from '../store/store.ts';
import { MAX_CRON_CHARS, parseScheduleList } from '../triggers/cron.ts';
import type { DueTrigger } from '../triggers/cron-scheduler.ts';
import type { InvocationRecord, Version, WorkerRecord } from '../types.ts';
import { requireToken } from './auth.ts';
import { assertNotOthersSubdomain, deploy, type Builder } from './deploy.ts';
import { DeployOrder } from './deploy-order.ts';
import { tailResponse } from './tail.ts';
import { kvRoutes } from './kv.ts';
import type { KvNamespaces } from '../kv/kv-namespace.ts';
import { d1Routes } from './d1.ts';
import type { D1Processes } from '../d1/d1-processes.ts';

/** What orchestrators and operators ask about the serving processes. */
export interface Health {
  /** Every serving process listens and serves what is live now. */
  ready(): boolean;
  describe(): { index: number; pid: number; startedAt: string; rssBytes: number; requests: number; ready: boolean }[];
  /** Serving processes that died and were replaced since start. */
  readonly restarts: number;
}

/** Cron triggers: when they fire next, and running a worker's scheduled handler now. */
export interface Triggers {
  nextRuns(worker: string): { cron: string; nextAt: number | null }[];
  /** Resolves with the event's record; null when the worker is not live. */
  runScheduled(trigger: DueTrigger): Promise<InvocationRecord | null>;
}

export interface AdminOptions {
  store: Store;
  builder: Builder;
  health: Health;
  triggers: Triggers;
  kv: KvNamespaces;
  /** The admin API's D1 processes (GET/POST/DELETE /v1/d1). */
  d1: D1Processes;
  usage: UsageLog;
  workerLogs: WorkerLogs;
  token: string;
  maxScriptBytes: number;
  /** Every worker answers at `<name>.<workersDomain>` (null: no such subdomains). */
  workersDomain: string | null;
  /** Resolves when every store change made so far is being served: a mutating call answers after it. */
  settled: () => Promise<void>;
}

/** Multipart boundaries and metadata ride on top of the script size limit. */
const UPLOAD_OVERHEAD_BYTES = 256 * 1024;
const MAX_USAGE_WINDOW_SECONDS = 7 * 24 * 3600;

export function createAdminApp(options: AdminOptions): Hono {
  const { store, builder, usage, workerLogs } = options;
  const app = new Hono();
  const order = new DeployOrder();
  const deployContext = { store, builder, order, workersDomain: options.workersDomain };

  app.onError((err, c) => {
    if (err instanceof IsolaneError) return c.json(err.toJSON(), err.status as 400, err.status === 503 ? { 'retry-after': '1' } : undefined);
    const internal = new IsolaneError('ISO_ERR_INTERNAL');
    process.emitWarning(`admin API error: ${err instanceof Error ? err.stack : String(err)}`);
    return c.json(internal.toJSON(), 500);
  });
  app.notFound((c) => c.json(new IsolaneError('ISO_ERR_NOT_FOUND', `no endpoint ${c.req.method} ${c.req.path}`).toJSON(), 404));

  // Liveness: the primary answers. Readiness: every serving process is up and serves what is live.
  app.get('/healthz', (c) => c.json({ ok: true }));
  app.get('/readyz', (c) => (options.health.ready() ? c.json({ ready: true }) : c.json({ ready: false }, 503)));
  app.use('*', requireToken(options.token));
  // A deploy, rollback, delete or route change answers only once new requests see it.
  app.use('*', async (c, next) => {
    await next();
    if (c.req.method !== 'GET') await options.settled();
  });

  app.get('/v1/system', (c) => {
    // The primary's own memory: JavaScript heap in use (metering, logs, usage) and committed, apart from
    // the rest of its RSS.
    const { rss, heapUsed, heapTotal } = process.memoryUsage();
    return c.json({
      pid: process.pid,
      uptimeSeconds: Math.round(process.uptime()),
      memory: { rssBytes: rss, heapUsedBytes: heapUsed, heapTotalBytes: heapTotal },
      restarts: options.health.restarts,
      servingProcesses: options.health.describe(),
    });
  });

  const workerOr404 = async (name: string): Promise<WorkerRecord> => {
    const worker = await store.getWorker(name).catch((err: unknown) => {
      if (err instanceof IsolaneError && err.code === 'ISO_ERR_DEPLOY_INVALID_NAME') return null;
      throw err;
    });
    if (!worker) throw new IsolaneError('ISO_ERR_WORKER_NOT_FOUND', `no worker named ${JSON.stringify(name)}`);
    return worker;
  };
  const routesOf = async (name: string) => (await store.listRoutes()).filter((r) => r.worker === name).map((r) => r.pattern);

  app.put(
    '/v1/workers/:name',
    bodyLimit({
      maxSize: options.maxScriptBytes + UPLOAD_OVERHEAD_BYTES,
      // The rest of the body is not read: the connection cannot carry another request, so say it closes.
      onError: (c) => c.json(new IsolaneError('ISO_ERR_DEPLOY_TOO_LARGE', `the upload is larger than ${options.maxScriptBytes} bytes`).toJSON(), 413, { connection: 'close' }),
    }),
    async (c) => {
      const result = await order.change(c.req.param('name'), async (ticket) => {
        const body = new Uint8Array(await c.req.arrayBuffer());
        return deploy(deployContext, ticket, c.req.param('name'), c.req.header('content-type'), body, options.maxScriptBytes);
      });
      return c.json(
        { worker: result.worker.name, version: result.version.id, syntax: result.syntax, routes: result.routes, versions: result.worker.versions },
        result.created ? 201 : 200,
      );
    },
  );

  app.get('/v1/workers', async (c) => {
    const [workers, routes] = await Promise.all([store.listWorkers(), store.listRoutes()]);
    return c.json({
      workers: workers.map((w) => ({ ...w, routes: routes.filter((r) => r.worker === w.name).map((r) => r.pattern) })),
    });
  });

  app.get('/v1/workers/:name', async (c) => {
    const worker = await workerOr404(c.req.param('name'));
    const version = await store.getVersion(worker.name, worker.activeVersion);
    return c.json({ ...worker, routes: await routesOf(worker.name), active: version ? describeVersion(version) : null });
  });

  app.delete('/v1/workers/:name', async (c) => {
    const worker = await workerOr404(c.req.param('name'));
    await store.deleteWorker(worker.name);
    usage.forget(worker.name);
    workerLogs.forget(worker.name);
    return c.json({ deleted: worker.name });
  });

  app.get('/v1/workers/:name/versions', async (c) => {
    const worker = await workerOr404(c.req.param('name'));
    const versions = await Promise.all(worker.versions.map((id) => store.getVersion(worker.name, id)));
    return c.json({
      worker: worker.name,
      activeVersion: worker.activeVersion,
      versions: versions.filter((v): v is Version => v !== null).map((v) => ({ ...describeVersion(v), active: v.id === worker.activeVersion })),
    });
  });

  app.post('/v1/workers/:name/rollback', async (c) => {
    const [worker, updated] = await order.change(c.req.param('name'), async (ticket) => {
      const text = await c.req.text();
      let target: string | undefined;
      if (text.trim() !== '') {
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {
          throw new IsolaneError('ISO_ERR_BODY_INVALID', 'the body must be JSON: {"version": "<id>"} or empty for the previous version');
        }
        const version = (body as { version?: unknown } | null)?.version;
        if (version !== undefined && typeof version !== 'string') throw new IsolaneError('ISO_ERR_BODY_INVALID', '"version" must be a string');
        target = version;
      }
      // The worker as it is when the rollback's turn comes, not as it was when the request arrived.
      return order.activate(c.req.param('name'), ticket, 'rollback', async () => {
        const worker = await workerOr404(c.req.param('name'));
        let version = target;
        if (version === undefined) {
          version = worker.versions.find((id) => id !== worker.activeVersion);
          if (!version) throw new IsolaneError('ISO_ERR_VERSION_NOT_FOUND', `worker ${worker.name} has no previous version`);
        } else if (!worker.versions.includes(version)) {
          throw new IsolaneError('ISO_ERR_VERSION_NOT_FOUND', `worker ${worker.name} has no kept version ${JSON.stringify(version)}`);
        }
        return [worker, await store.activate(worker.name, version)] as const;
      });
    });
    return c.json({ worker: updated.name, activeVersion: updated.activeVersion, previousVersion: worker.activeVersion });
  });

  // Cron triggers, in Cloudflare's shape: the list is replaced whole; [] removes them all.
  app.get('/v1/workers/:name/schedules', async (c) => {
    const worker = await workerOr404(c.req.param('name'));
    return c.json({ worker: worker.name, schedules: describeSchedules(worker, options.triggers) });
  });

  app.put('/v1/workers/:name/schedules', async (c) => {
    const worker = await workerOr404(c.req.param('name'));
    const schedules = parseScheduleList(await jsonBody(c.req.text()));
    const updated = await store.setSchedules(worker.name, schedules.map((schedule) => schedule.cron));
    await options.settled();
    return c.json({ worker: updated.name, schedules: describeSchedules(updated, options.triggers) });
  });

  // Runs the scheduled handler now, as the cron `cron` would at `time` (ms since the epoch, default now):
  // wrangler's /__scheduled for testing a worker, and an operator's "run it again". Answers its record.
  app.post('/v1/workers/:name/scheduled', async (c) => {
    const worker = await workerOr404(c.req.param('name'));
    const cron = c.req.query('cron') ?? worker.schedules[0] ?? '';
    const time = c.req.query('time');
    const scheduledTime = time === undefined ? Date.now() : Number(time);
    if (!Number.isSafeInteger(scheduledTime) || scheduledTime < 0) throw new IsolaneError('ISO_ERR_BODY_INVALID', 'time must be whole milliseconds since the epoch');
    if (cron.length > MAX_CRON_CHARS) throw new IsolaneError('ISO_ERR_SCHEDULE_INVALID', `cron is longer than ${MAX_CRON_CHARS} characters`);
    const record = await options.triggers.runScheduled({ worker: worker.name, cron, scheduledTime });
    if (!record) throw new IsolaneError('ISO_ERR_WORKER_NOT_FOUND', `worker ${worker.name} is not live yet; try again`);
    return c.json(record);
  });

  app.get('/v1/workers/:name/usage', async (c) => {
    const worker = await workerOr404(c.req.param('name'));
    const raw = c.req.query('window') ?? '3600';
    const window = Number(raw);
    if (!Number.isInteger(window) || window < 1 || window > MAX_USAGE_WINDOW_SECONDS) {
      throw new IsolaneError('ISO_ERR_BODY_INVALID', `window must be whole seconds from 1 to ${MAX_USAGE_WINDOW_SECONDS}`);
    }
    return c.json(usage.summary(worker.name, window));
  });

  app.get('/v1/workers/:name/logs', async (c) => {
    const worker = await workerOr404(c.req.param('name'));
    const limit = Math.min(500, Math.max(1, Number(c.req.query('limit') ?? 100) || 100));
    return c.json({ worker: worker.name, lines: workerLogs.read(worker.name, limit) });
  });

  app.get('/v1/workers/:name/tail', async (c) => tailResponse(workerLogs, (await workerOr404(c.req.param('name'))).name));

  kvRoutes(app, options.kv);
  d1Routes(app, options.d1);

  app.get('/v1/routes', async (c) => c.json({ routes: await store.listRoutes() }));

  app.put('/v1/routes', async (c) => {
    const body = await jsonBody(c.req.text());
    const { pattern, worker } = body as { pattern?: unknown; worker?: unknown };
    if (typeof pattern !== 'string' || typeof worker !== 'string') throw new IsolaneError('ISO_ERR_BODY_INVALID', 'the body must be {"pattern": "host/path*", "worker": "<name>"}');
    const route = parseRoutePattern(pattern);
    assertNotOthersSubdomain(route, options.workersDomain, worker);
    const canonical = route.pattern;
    await workerOr404(worker);
    await store.putRoute({ pattern: canonical, worker });
    return c.json({ pattern: canonical, worker });
  });

  app.delete('/v1/routes', async (c) => {
    let pattern = c.req.query('pattern');
    if (pattern === undefined) pattern = ((await jsonBody(c.req.text())) as { pattern?: unknown }).pattern as string | undefined;
    if (typeof pattern !== 'string') throw new IsolaneError('ISO_ERR_BODY_INVALID', 'give the route as ?pattern=... or {"pattern": "..."}');
    const canonical = parseRoutePattern(pattern).pattern;
    if (!(await store.deleteRoute(canonical))) throw new IsolaneError('ISO_ERR_NOT_FOUND', `no route ${canonical}`);
    return c.json({ deleted: canonical });
  });

  app.get('/metrics', (c) => c.text(renderPrometheus(usage), 200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }));

  return app;
}

function describeSchedules(worker: WorkerRecord, triggers: Triggers) {
  const next = new Map(triggers.nextRuns(worker.name).map(({ cron, nextAt }) => [cron, nextAt]));
  return worker.schedules.map((cron) => {
    const nextAt = next.get(cron);
    return { cron, nextRun: nextAt === undefined || nextAt === null ? null : new Date(nextAt).toISOString() };
  });
}

/** What the API shows of a version: never the text of secrets or the code itself. */
function describeVersion(version: Version) {
  return {
    id: version.id,
    createdAt: version.createdAt,
    syntax: version.syntax,
    main: version.main,
    modules: version.modules.map((m) => ({ name: m.name, type: m.type, bytes: Buffer.byteLength(m.content) })),
    bindings: version.bindings.map((b) => ({ name: b.name, type: b.type })),
    compatibilityDate: version.compatibilityDate,
    compatibilityFlags: version.compatibilityFlags ?? [],
    limits: version.limits,
  };
}

async function jsonBody(text: Promise<string>): Promise<unknown> {
  try {
    const value: unknown = JSON.parse(await text);
    if (typeof value !== 'object' || value === null) throw new Error('not an object');
    return value;
  } catch {
    throw new IsolaneError('ISO_ERR_BODY_INVALID', 'the body must be a JSON object');
  }
}
