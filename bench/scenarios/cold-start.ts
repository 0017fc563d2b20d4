/**
 * Cold starts: deploy N distinct workers of four kinds (tiny; the ~100 KB Hono app of
 * bench/fixtures/hono-app.js bundled with esbuild; that app plus ~1 MB of data evaluated at load; that
 * app plus a ~1 MB generated library of functions), restart the server so nothing is warm, then request
 * each worker once: time to first byte at the client (response headers) and initMs (isolate build) from
 * the worker's invocation record. Each worker's code cache is the one its deploy made (top-level code
 * only), except for a fifth kind: the Hono app again, served one request (another route) before the
 * restart, so its cache was made again after that request, as happens to every worker that has served
 * (the usual case for a cold start after an eviction or a restart in production).
 *
 * Half the workers of each kind are requested 25 ms apart (cold starts arriving one by one, with idle
 * time between them in which the executor prepares its spare isolates), the other half back to back.
 * Kinds are interleaved so the first requests of the process (host code not yet optimised) are shared.
 *
 *   npm run bench:cold                     # = node --no-node-snapshot bench/run.ts --only cold-start
 *   node --no-node-snapshot bench/scenarios/cold-start.ts [--quick]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'undici';
import { bundleFixture } from '../lib/bundle.ts';
import { startIsolane, type IsolaneServer } from '../lib/isolane-server.ts';

/** The restarted server finds the code caches left on disk (the default; said here so the scenario does not depend on it). */
const CODE_CACHE = ['--code-cache', 'disk'];
import { percentiles, quantileSample } from '../lib/load.ts';
import type { Chart, Scenario, ScenarioContext, ScenarioResult, Table, Target } from '../lib/types.ts';

const GAP_MS = 25;
/** Idle time before a served isolate's upkeep (its code cache made again) on the server before the restart. */
const SERVED_IDLE_GC_MS = 200;

export function bundleHonoApp(): Promise<string> {
  return bundleFixture('hono-app.js');
}

/** ~`bytes` of product records, evaluated at load (a data module bundled into the worker). */
function dataModule(bytes: number): string {
  const items: string[] = [];
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    const item = `{id:${i},sku:"SKU-${(i * 7919) % 1000003}",name:"Product ${i} ${'abcdefghij'.slice(i % 10)}",price:${(i * 37) % 10000 / 100},tags:["t${i % 17}","t${i % 29}"],stock:${i % 113}}`;
    items.push(item);
    size += item.length + 1;
  }
  return `globalThis.BENCH_CATALOG = [${items.join(',')}];\n`;
}

/** ~`bytes` of distinct generated functions (a big library), only one of which runs per request. */
function libraryModule(bytes: number): string {
  const fns: string[] = [];
  const names: string[] = [];
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    const fn = `function lib_${i}(input, options) {
  const opts = Object.assign({ scale: ${i % 13 + 1}, label: "fn${i}" }, options);
  let acc = ${i};
  for (let k = 0; k < String(input).length; k++) acc = (acc * 31 + String(input).charCodeAt(k) * opts.scale) % 1000003;
  if (acc % ${(i % 7) + 2} === 0) return { label: opts.label, value: acc, even: true };
  return { label: opts.label + "-" + acc.toString(36), value: acc ^ ${i * 2654435761 % 65536}, even: false };
}\n`;
    fns.push(fn);
    names.push(`lib_${i}`);
    size += fn.length + 8;
  }
  return `${fns.join('')}globalThis.BENCH_LIB = { ${names.join(', ')} };\n`;
}

interface Kind {
  id: string;
  label: string;
  count: number;
  source: (i: number) => string;
  check: (body: string, i: number) => boolean;
  /** Served one request before the restart (its code cache remade after it). */
  servedBefore?: boolean;
}

interface Sample {
  kind: string;
  worker: string;
  mode: 'spaced' | 'back-to-back';
  ttfbMs: number;
  totalMs: number;
  ok: boolean;
  answer: string;
}

async function waitReady(server: IsolaneServer): Promise<void> {
  for (let i = 0; i < 300; i++) {
    const res = await fetch(`${server.adminUrl}/readyz`).catch(() => null);
    if (res?.ok) return;
    await res?.text();
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('server not ready after 30 s');
}

/**
 * One request (to a route other than the one measured later) to each worker of the served-before kinds,
 * then waits until each of their isolates has had its idle upkeep, which remakes and saves the code cache.
 */
async function serveOnce(server: IsolaneServer, kinds: Kind[], notes: string[]): Promise<void> {
  const served = kinds.filter((k) => k.servedBefore).flatMap((k) => Array.from({ length: k.count }, (_, i) => `cold-${k.id}-${i}`));
  if (served.length === 0) return;
  const upkeeps = async () => {
    const system = (await server.admin('GET', '/v1/system')) as { servingProcesses: { idleGc: { isolates: number } }[] };
    return system.servingProcesses.reduce((n, p) => n + p.idleGc.isolates, 0);
  };
  // The deploys' own isolates go idle too: let their upkeep pass first.
  let before = await upkeeps();
  for (let settled = 0; settled < 3; ) {
    await new Promise((r) => setTimeout(r, SERVED_IDLE_GC_MS * 2));
    const now = await upkeeps();
    settled = now === before ? settled + 1 : 0;
    before = now;
  }
  const client = new Client(server.dataUrl);
  try {
    for (const worker of served) {
      const res = await client.request({ path: '/api/users/7?q=x', method: 'GET', headers: { host: `${worker}.localhost` } });
      await res.body.text();
      if (res.statusCode !== 200) notes.push(`the request before the restart to ${worker} answered ${res.statusCode}`);
    }
  } finally {
    await client.close();
  }
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline && (await upkeeps()) < before + served.length) await new Promise((r) => setTimeout(r, 100));
  const done = (await upkeeps()) - before;
  if (done < served.length) notes.push(`only ${done} of ${served.length} served isolates had their idle upkeep before the restart`);
}

const round = (n: number, d = 2) => Number(n.toFixed(d));

export const scenario: Scenario = {
  id: 'cold-start',
  title: 'Cold start: first request to each of N workers after a restart (tiny, ~100 KB Hono, ~1 MB bundles)',
  async run(ctx: ScenarioContext): Promise<ScenarioResult> {
    const hono = await bundleHonoApp();
    const data = dataModule(900 * 1024);
    const library = libraryModule(900 * 1024);
    const n = (full: number, quick: number) => (ctx.quick ? quick : full);
    const kinds: Kind[] = [
      {
        id: 'tiny',
        label: 'tiny (Response.json + URL)',
        count: n(100, 20),
        source: (i) => `export default { fetch(request) { return Response.json({ worker: ${i}, path: new URL(request.url).pathname }) } }`,
        check: (body, i) => body === JSON.stringify({ worker: i, path: '/' }),
      },
      {
        id: 'hono',
        label: 'Hono app',
        count: n(100, 20),
        source: (i) => `globalThis.BENCH_VERSION = "hono-${i}";\n${hono}`,
        check: (body, i) => body.includes(`"version":"hono-${i}"`),
      },
      {
        id: 'hono-served',
        label: 'Hono app, served once before',
        count: n(100, 20),
        source: (i) => `globalThis.BENCH_VERSION = "hono-served-${i}";\n${hono}`,
        check: (body, i) => body.includes(`"version":"hono-served-${i}"`),
        servedBefore: true,
      },
      {
        id: 'hono-data',
        label: 'Hono app + data module',
        count: n(50, 10),
        source: (i) => `globalThis.BENCH_VERSION = "hono-data-${i}";\n${data}${hono}`,
        check: (body, i) => body.includes(`"version":"hono-data-${i}"`) && !body.includes('"items":0'),
      },
      {
        id: 'hono-lib',
        label: 'Hono app + generated library',
        count: n(50, 10),
        source: (i) => `globalThis.BENCH_VERSION = "hono-lib-${i}";\n${library}${hono}`,
        check: (body, i) => body.includes(`"version":"hono-lib-${i}"`) && !body.includes('"lib":0'),
      },
    ];
    const sizes = new Map(kinds.map((k) => [k.id, Buffer.byteLength(k.source(0))]));
    const notes: string[] = [];
    const dataDir = mkdtempSync(join(tmpdir(), 'isolane-cold-'));
    let server: IsolaneServer | undefined;
    const samples: Sample[] = [];
    let client: Client | undefined;
    try {
      // 1. Deploy every worker (each deploy builds and warms it; that is why the server restarts next).
      // A short idle time before the idle upkeep, which remakes the code cache of a version that has served.
      server = await startIsolane({ args: ['--data-dir', dataDir, ...CODE_CACHE, '--idle-gc-ms', String(SERVED_IDLE_GC_MS)], collect: false });
      const jobs = kinds.flatMap((k) => Array.from({ length: k.count }, (_, i) => ({ kind: k, i })));
      const deployStarted = performance.now();
      let next = 0;
      const deployer = server;
      await Promise.all(
        Array.from({ length: 4 }, async () => {
          while (next < jobs.length) {
            const { kind, i } = jobs[next++]!;
            await deployer.deployModule(`cold-${kind.id}-${i}`, kind.source(i));
          }
        }),
      );
      ctx.log(`deployed ${jobs.length} workers in ${((performance.now() - deployStarted) / 1000).toFixed(1)} s`);
      await serveOnce(server, kinds, notes);
      await server.stop();

      // 2. Restart on the same data: nothing warm, nothing code-cached.
      server = await startIsolane({ args: ['--data-dir', dataDir, ...CODE_CACHE] });
      await waitReady(server);
      await new Promise((r) => setTimeout(r, 1000)); // spare isolates are prepared in idle time
      client = new Client(server.dataUrl, { keepAliveTimeout: 60_000 });
      // Open the one keep-alive connection with a request no worker answers (404 from routing, no isolate).
      const opened = await client.request({ path: '/', method: 'GET', headers: { host: 'nobody.localhost' } });
      await opened.body.text();

      // 3. First request to each: the first half of every kind spaced, the second half back to back.
      const order = (mode: 'spaced' | 'back-to-back') => {
        const list: { kind: Kind; i: number }[] = [];
        const max = Math.max(...kinds.map((k) => k.count));
        for (let j = 0; j < max; j++)
          for (const kind of kinds) {
            const half = Math.ceil(kind.count / 2);
            const i = mode === 'spaced' ? j : half + j;
            if ((mode === 'spaced' && j < half) || (mode === 'back-to-back' && i < kind.count)) list.push({ kind, i });
          }
        return list;
      };
      for (const mode of ['spaced', 'back-to-back'] as const) {
        for (const { kind, i } of order(mode)) {
          if (mode === 'spaced') await new Promise((r) => setTimeout(r, GAP_MS));
          const worker = `cold-${kind.id}-${i}`;
          const sent = performance.now();
          const res = await client.request({ path: '/', method: 'GET', headers: { host: `${worker}.localhost` } });
          const ttfbMs = performance.now() - sent;
          const body = await res.body.text();
          samples.push({ kind: kind.id, worker, mode, ttfbMs, totalMs: performance.now() - sent, ok: res.statusCode === 200 && kind.check(body, i), answer: `${res.statusCode} ${body.slice(0, 120)}` });
        }
        ctx.log(`${mode}: ${samples.filter((s) => s.mode === mode).length} first requests`);
      }
      // The same requests to workers already warm, in both modes: what any request costs over this
      // connection on this machine (after 25 ms of idleness both ends wake up), for the cold starts' figures
      // to be read against.
      const warmTtfb = new Map<string, number[]>();
      const tinyWorkers = samples.filter((s) => s.kind === 'tiny').map((s) => s.worker);
      for (const mode of ['spaced', 'back-to-back'] as const) {
        const times: number[] = [];
        for (let j = 0; j < Math.max(10, tinyWorkers.length); j++) {
          if (mode === 'spaced') await new Promise((r) => setTimeout(r, GAP_MS));
          const sent = performance.now();
          const res = await client.request({ path: '/', method: 'GET', headers: { host: `${tinyWorkers[j % tinyWorkers.length]}.localhost` } });
          times.push(performance.now() - sent);
          await res.body.text();
        }
        warmTtfb.set(mode, times);
      }

      // 4. Their records: initMs of the cold ones.
      const records = server.records;
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline && samples.some((s) => !records.get(s.worker)?.length)) await new Promise((r) => setTimeout(r, 50));
      const failed = samples.filter((s) => !s.ok);
      if (failed.length) notes.push(`${failed.length} first requests had a wrong status or body: ${failed.slice(0, 5).map((s) => `${s.worker} (${s.answer}; outcome ${records.get(s.worker)?.[0]?.outcome}, initMs ${records.get(s.worker)?.[0]?.initMs})`).join(', ')}`);
      const notCold = samples.filter((s) => records.get(s.worker)?.[0]?.cold !== true);
      if (notCold.length) notes.push(`${notCold.length} first requests were not recorded as cold starts (e.g. ${notCold[0]!.worker})`);

      const tables: Table[] = [];
      const targets: Target[] = [];
      const charts: Chart[] = [];
      const rows: (string | number)[][] = [];
      const bars: { label: string; value: number }[] = [];
      for (const mode of ['spaced', 'back-to-back'] as const) {
        for (const kind of kinds) {
          const mine = samples.filter((s) => s.kind === kind.id && s.mode === mode);
          const ttfb = percentiles(mine.map((s) => s.ttfbMs));
          const recs = mine.map((s) => records.get(s.worker)?.[0]).filter((r): r is Record<string, unknown> => r !== undefined && r.cold === true);
          const init = percentiles(recs.map((r) => Number(r.initMs)));
          const wall = percentiles(recs.map((r) => Number(r.wallMs)));
          const cpu = percentiles(recs.map((r) => Number(r.cpuUs) / 1000));
          rows.push([kind.label, round(sizes.get(kind.id)! / 1024, 1), mode, mine.length, round(ttfb.p50), round(ttfb.p90), round(ttfb.p99), round(ttfb.max), round(init.p50), round(init.p99), round(init.max), round(wall.p50), round(cpu.p50)]);
          bars.push({ label: `${kind.id} (${mode})`, value: round(ttfb.p50) });
          if (kind.id === 'hono-served') {
            targets.push({ name: `Hono cold start after it has served once, TTFB p50 (${mode})`, measured: round(ttfb.p50), unit: 'ms', target: '< 5 ms', met: ttfb.p50 < 5 });
            targets.push({ name: `Hono cold start after it has served once, TTFB p99 (${mode})`, measured: round(ttfb.p99), unit: 'ms', target: '< 15 ms', met: ttfb.p99 < 15 });
          }
          if (kind.id === 'hono') {
            targets.push({ name: `Hono ~${Math.round(sizes.get('hono')! / 1024)} KB cold start, TTFB p50 (${mode})`, measured: round(ttfb.p50), unit: 'ms', target: '< 5 ms', met: ttfb.p50 < 5 });
            targets.push({ name: `Hono ~${Math.round(sizes.get('hono')! / 1024)} KB cold start, TTFB p99 (${mode})`, measured: round(ttfb.p99), unit: 'ms', target: '< 15 ms', met: ttfb.p99 < 15 });
            targets.push({ name: `Hono cold start, initMs p50 (${mode})`, measured: round(init.p50), unit: 'ms', target: '< 5 ms', met: init.p50 < 5 });
            targets.push({ name: `Hono cold start, initMs p99 (${mode})`, measured: round(init.p99), unit: 'ms', target: '< 15 ms', met: init.p99 < 15 });
          }
        }
      }
      for (const [mode, times] of warmTtfb) {
        const ttfb = percentiles(times);
        rows.push([`reference: a request to a tiny worker already warm`, round(sizes.get('tiny')! / 1024, 1), mode, times.length, round(ttfb.p50), round(ttfb.p90), round(ttfb.p99), round(ttfb.max), '', '', '', '', '']);
      }
      tables.push({
        title: 'First request to each worker after a restart (one keep-alive connection, so one serving process)',
        columns: ['worker', 'KB', 'requests', 'n', 'TTFB p50 ms', 'p90', 'p99', 'max', 'initMs p50', 'initMs p99', 'initMs max', 'server wallMs p50', 'request CPU ms p50'],
        rows,
      });
      charts.push({ kind: 'bars', title: 'Cold start TTFB p50 by worker kind', unit: 'ms', bars });
      charts.push({ kind: 'histogram', title: 'Cold start TTFB, Hono app (all first requests)', unit: 'ms', values: quantileSample(samples.filter((s) => s.kind === 'hono').map((s) => s.ttfbMs), 200) });
      const slowest = [...samples].sort((a, b) => b.ttfbMs - a.ttfbMs).slice(0, 3);
      notes.push(`Slowest first requests: ${slowest.map((s) => `${s.worker} ${s.ttfbMs.toFixed(1)} ms (initMs ${records.get(s.worker)?.[0]?.initMs})`).join('; ')}.`);
      notes.push(`TTFB is measured at the client to the response headers over one open keep-alive connection (no TCP handshake); "spaced" requests are ${GAP_MS} ms apart, "back-to-back" ones are sent as soon as the previous answered. Kinds are interleaved in both. The reference rows are warm requests sent the same way, after the cold starts: the part of every TTFB that is the connection, the client and, spaced, both ends waking up on this machine.`);
      notes.push('The server runs with `--code-cache disk` (the default): after the restart, the first compile of each worker uses the code cache left in the data dir: its deploy\'s (top-level code run), or for "served once before" the one made again after a request to `/api/users/7` (the measured request is `/`).');
      notes.push(`Bundles: Hono ${sizes.get('hono')} B (bench/fixtures/hono-app.js + hono from node_modules, esbuild); +data: ~900 KB of object literals evaluated at load; +lib: ~900 KB of distinct generated functions (V8 compiles them lazily).`);
      return { id: 'cold-start', title: this.title, command: 'npm run bench:cold' + (ctx.quick ? ' -- --quick' : ''), tables, targets, charts, notes };
    } finally {
      await client?.close().catch(() => {});
      await server?.stop().catch(() => {});
      rmSync(dataDir, { recursive: true, force: true });
    }
  },
};

if (import.meta.main) {
  const quick = process.argv.includes('--quick');
  const result = await scenario.run({ quick, rounds: 1, seconds: quick ? 2 : 5, log: (line) => console.error(line) });
  console.log(JSON.stringify(result, null, 2));
}
