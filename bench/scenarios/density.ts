/**
 * Density: how much memory one warm isolate costs, and what warm latency is when requests spread over
 * thousands of workers; then, past the cache bound, that eviction keeps memory bounded and every answer
 * stays correct.
 *
 * For each count C (1,000 / 5,000 / 10,000; quick: 200 / 500) of distinct hello-world workers:
 * 1. deploy up to C over the admin API, 8 at a time (on a server with a small --max-isolates: a deploy
 *    builds the version in every serving process, which at these counts would not fit in memory);
 * 2. restart on the same data with room for every isolate (--max-isolates (C+32) a process, no memory
 *    bound, no RSS recycling) and P serving processes: one per core, or more where one could not hold
 *    its share (10,000 here: a process holds ~2,700, by its address space and vm.max_map_count's
 *    default); the baseline is the serving processes' RSS (GET /v1/system) with zero tenant isolates
 *    (each process keeps four spare ones);
 * 3. one request to each worker: 8 or more keep-alive connections (a multiple of P) opened one after
 *    the other (the primary hands connections to the serving processes in turn); worker i always goes
 *    to connection i mod their count, so each worker is warm in one process. RSS per warm isolate =
 *    (RSS − baseline) / isolates held;
 * 3b. idle: the server's default --idle-gc-ms (10 s) gives back the spare memory of isolates left idle
 *    (src/isolates/memory-reducer.ts); wait until every warm isolate has had it (GET /v1/system counts
 *    them) and read RSS again: RSS per idle warm isolate, the state most of thousands of tenants are in;
 * 4. warm latency: closed loop on the same connections, each request to a random worker of its group
 *    (every request is checked, and a cold start in this phase is counted).
 * 4b. the same workers on workerd, side by side (counts up to 1,000): one process, each worker its own
 *    service and socket, each requested once; RSS per isolate against the same process with one worker.
 * Then past the bound: a server with --max-isolates C/4 serves all C workers twice over (quick: once); RSS after each
 * pass and every answer checked.
 * Deploys are slow (~40/s here) and isolates take memory: a count that would not fit the time budget
 * or the free memory is skipped, and the result says so.
 *
 *   npm run bench -- --only density [--quick] [--seconds 5] [--workers 10000]
 *   node --no-node-snapshot bench/scenarios/density.ts [--quick] [--workers 1000,5000]
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, freemem, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { MAX_ISOLATES_PER_PROCESS } from '../../src/limits/address-space.ts';
import { executorShares } from '../../src/limits/executor-shares.ts';
import { isolateMappingBudget, mappingsOf } from '../../src/limits/map-count.ts';
import type { ServingProcessInfo } from '../../src/serving/serving-pool.ts';
import { Agent, Client, request } from 'undici';
import { startIsolane, type IsolaneServer } from '../lib/isolane-server.ts';
import { percentiles } from '../lib/load.ts';
import { PeerUnavailable } from '../lib/peers/common.ts';
import { startWorkerdFleet } from '../lib/peers/workerd.ts';
import { treeRssBytes } from '../lib/proc.ts';
import type { Chart, Scenario, ScenarioContext, ScenarioResult, Table, Target } from '../lib/types.ts';

const MB = 1024 * 1024;
/** Keep-alive connections at least; a multiple of the serving processes, so each has as many. */
const MIN_CONNECTIONS = 8;
const DEPLOY_CONCURRENCY = 8;
const source = (i: number) => `export default { fetch() { return new Response('hello ${i}') } }`;
const name = (i: number) => `d${i}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const round = (n: number, d = 2) => Number(n.toFixed(d));

/** What a warm hello-world isolate holds of heap and external memory, for its mappings' estimate. */
const HELLO_ISOLATE_BYTES = 1.5 * MB;

/**
 * Serving processes for `count` workers, each warm in one process: one per core (the server's
 * default), or more where a process's serving thread could not hold its share: its part of the
 * process's bounds (src/limits/executor-shares.ts), the address-space ceiling and the memory mappings.
 */
function servingProcessesFor(count: number): number {
  const { serving } = executorShares({ maxIsolates: MAX_ISOLATES_PER_PROCESS, maxMemoryBytes: Number.MAX_SAFE_INTEGER }, isolateMappingBudget());
  const byMappings = serving.maxMappings === null ? Infinity : Math.floor(serving.maxMappings / mappingsOf(1, HELLO_ISOLATE_BYTES));
  const perProcess = Math.floor(Math.min(serving.maxIsolates, byMappings) * 0.95);
  return Math.max(availableParallelism(), Math.ceil(count / perProcess));
}

/** What the density scenario reads of GET /v1/system. */
interface System {
  restarts: number;
  servingProcesses: ServingProcessInfo[];
}

/** The server's default --idle-gc-ms: a warm isolate unused this long gives its spare memory back. */
const IDLE_GC_MS = 10_000;

/** Waits until the serving processes have given back the memory of `isolates` idle isolates in all. */
async function waitIdleGc(server: IsolaneServer, isolates: number): Promise<{ reduced: number; cpuMs: number; waitedS: number }> {
  const started = performance.now();
  // Each reduction takes a few ms and at most a quarter of a process's time (plus the idle delay itself).
  const deadline = started + IDLE_GC_MS + isolates * 20 + 30_000;
  for (;;) {
    const processes = ((await server.admin('GET', '/v1/system')) as System).servingProcesses;
    const reduced = processes.reduce((n, p) => n + p.idleGc.isolates, 0);
    const cpuMs = processes.reduce((n, p) => n + p.idleGc.cpuMs, 0);
    if (reduced >= isolates || performance.now() > deadline) return { reduced, cpuMs, waitedS: (performance.now() - started) / 1000 };
    await sleep(500);
  }
}

/** The serving processes' RSS, and the warm isolates they hold and have evicted (the second read's). */
async function rss(server: IsolaneServer): Promise<{ total: number; each: number[]; warm: number; evicted: number }> {
  // Each process reports its RSS once a second: two reads a second apart, averaged.
  const reads: System['servingProcesses'][] = [];
  for (let i = 0; i < 2; i++) {
    if (i) await sleep(1100);
    reads.push(((await server.admin('GET', '/v1/system')) as System).servingProcesses);
  }
  const each = reads[0]!.map((_, j) => (reads[0]![j]!.rssBytes + reads[1]![j]!.rssBytes) / 2);
  const sum = (f: (p: System['servingProcesses'][number]) => number) => reads[1]!.reduce((n, p) => n + f(p), 0);
  return { total: each.reduce((a, b) => a + b, 0), each, warm: sum((p) => p.isolates.warm), evicted: sum((p) => p.isolates.evicted) };
}

/** Linux's bound on a process's memory mappings, which bounds the warm isolates of each (src/limits/map-count.ts). */
function maxMapCount(): string {
  try {
    return readFileSync('/proc/sys/vm/max_map_count', 'utf8').trim();
  } catch {
    return 'unknown';
  }
}

async function waitReady(server: IsolaneServer): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const res = await fetch(`${server.adminUrl}/readyz`).catch(() => null);
    await res?.text();
    if (res?.ok) return;
    await sleep(100);
  }
  throw new Error('server not ready after 60 s');
}

/**
 * Connections opened one after the other; the primary hands them to the `processes` serving processes
 * in turn, so connection k is served by process k mod `processes`.
 */
async function openClients(server: IsolaneServer, processes: number): Promise<Client[]> {
  const clients: Client[] = [];
  const connections = processes * Math.ceil(MIN_CONNECTIONS / processes);
  for (let k = 0; k < connections; k++) {
    const client = new Client(server.dataUrl, { keepAliveTimeout: 120_000, keepAliveMaxTimeout: 600_000 });
    const res = await client.request({ path: '/', method: 'GET', headers: { host: 'nobody.localhost' } });
    await res.body.text();
    clients.push(client);
  }
  return clients;
}

interface Outcome {
  requests: number;
  wrong: number;
  failed: number;
  samples: string[];
}

async function get(client: Client, i: number, out: Outcome, latencies?: number[]): Promise<void> {
  const sent = performance.now();
  out.requests++;
  try {
    const res = await client.request({ path: '/', method: 'GET', headers: { host: `${name(i)}.localhost` } });
    const body = await res.body.text();
    latencies?.push(performance.now() - sent);
    if (res.statusCode !== 200 || body !== `hello ${i}`) {
      out.wrong++;
      if (out.samples.length < 5) out.samples.push(`${name(i)}: ${res.statusCode} ${body.slice(0, 80)}`);
    }
  } catch (err) {
    out.failed++;
    if (out.samples.length < 5) out.samples.push(`${name(i)}: ${String(err)}`);
  }
}

/**
 * Every worker once, a request on each connection at a time: worker i on connection i mod the
 * connections, whose count is a multiple of the processes', so each worker is warm in one process.
 */
async function requestAll(clients: Client[], count: number, out: Outcome): Promise<void> {
  await Promise.all(
    clients.map(async (client, k) => {
      for (let i = k; i < count; i += clients.length) await get(client, i, out);
    }),
  );
}

const coldSince = (server: IsolaneServer, from: number) => {
  let cold = 0;
  let records = 0;
  for (let j = from; j < server.lines.length; j++) {
    const line = server.lines[j]!;
    if (line.type !== 'invocation') continue;
    records++;
    if (line.cold === true) cold++;
  }
  return { cold, records };
};

/** workerd is measured at the counts up to this one (it builds every worker at start: ~4 s and ~1.6 GB for 1,000). */
const WORKERD_MAX_WORKERS = 1000;

/**
 * The same workers on workerd, side by side: one process with `count` workers, each its own service and
 * socket, every one requested once; RSS per isolate = (RSS − RSS of the same process with one worker) ÷
 * (count − 1).
 */
async function workerdDensity(count: number, ctx: ScenarioContext): Promise<{ perIsolate: number; rssOne: number; rssAll: number; startS: number; wrong: number }> {
  const rssAfterEachOnce = async (n: number) => {
    const started = performance.now();
    const fleet = await startWorkerdFleet(Array.from({ length: n }, (_, i) => source(i)), { log: ctx.log });
    const startS = (performance.now() - started) / 1000;
    // Connections closed before RSS is read: N open sockets would count as isolate memory.
    const agent = new Agent({ keepAliveTimeout: 1 });
    try {
      let wrong = 0;
      for (let i = 0; i < n; i++) {
        const res = await request(fleet.urls[i]!, { dispatcher: agent }).catch(() => null);
        if ((await res?.body.text()) !== `hello ${i}`) wrong++;
      }
      await agent.close();
      await sleep(1000);
      return { rss: treeRssBytes(fleet.pid), startS, wrong };
    } finally {
      await agent.destroy().catch(() => {});
      await fleet.stop();
    }
  };
  const one = await rssAfterEachOnce(1);
  const all = await rssAfterEachOnce(count);
  return { perIsolate: (all.rss - one.rss) / (count - 1), rssOne: one.rss, rssAll: all.rss, startS: all.startS, wrong: one.wrong + all.wrong };
}

/** `--workers 10000` or `--workers 1000,5000`: the counts to measure instead of the defaults. */
function workerCounts(): number[] | null {
  const { values } = parseArgs({ args: process.argv.slice(2), strict: false, options: { workers: { type: 'string' } } });
  if (typeof values.workers !== 'string') return null;
  const counts = values.workers.split(',').map(Number);
  if (counts.some((n) => !Number.isInteger(n) || n < 2)) throw new Error(`--workers takes counts of 2 or more, separated by commas, not ${values.workers}`);
  return counts.sort((a, b) => a - b);
}

async function waitRecords(server: IsolaneServer, from: number, expected: number): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline && coldSince(server, from).records < expected) await sleep(50);
}

export const scenario: Scenario = {
  id: 'density',
  title: 'Density: RSS per warm isolate, warm latency over thousands of workers, eviction past the bound',
  async run(ctx: ScenarioContext): Promise<ScenarioResult> {
    // Quick: 200 and 500 (1,000 deploys alone take ~20 s here; a quick run stays under a minute).
    const counts = workerCounts() ?? (ctx.quick ? [200, 500] : [1000, 5000, 10000]);
    const deployBudgetS = ctx.quick ? 60 : 240;
    const dataDir = mkdtempSync(join(tmpdir(), 'isolane-density-'));
    const notes: string[] = [];
    const rows: (string | number)[][] = [];
    const targets: Target[] = [];
    const charts: Chart[] = [];
    const tables: Table[] = [];
    let server: IsolaneServer | undefined;
    /** Deploys go through a server of their own, kept for the whole run (idle while another measures). */
    let deployer: IsolaneServer | undefined;
    let clients: Client[] = [];
    const closeAll = async () => {
      for (const c of clients) await c.close().catch(() => {});
      clients = [];
      await server?.stop().catch(() => {});
      server = undefined;
    };
    try {
      let deployed = 0;
      let deploySeconds = 0;
      let perIsolateBytes = 3 * MB; // until measured
      /** Room kept above the estimate: wide while it is a guess, narrower once a smaller count measured it. */
      let margin = 1.3;
      let largest = 0;
      const rssPoints: [number, number][] = [];
      /** MB per warm isolate (just after its request) by count, for the comparison with workerd. */
      const isolanePerIsolate = new Map<number, number>();
      for (const count of counts) {
        // Fits the time budget and the free memory?
        const rate = deployed ? deployed / deploySeconds : 40;
        const needS = (count - deployed) / rate;
        if (deploySeconds + needS > deployBudgetS) {
          notes.push(`${count} workers skipped: deploying ${count - deployed} more at the measured ${rate.toFixed(0)}/s would take ~${needS.toFixed(0)} s, past this run's deploy budget of ${deployBudgetS} s.`);
          ctx.log(`skipping ${count}: ~${needS.toFixed(0)} s of deploys`);
          continue;
        }
        const needBytes = count * perIsolateBytes * margin + 1024 * MB;
        if (needBytes > freemem()) {
          notes.push(`${count} workers skipped: ~${(needBytes / 1024 / MB).toFixed(1)} GiB needed at ${(perIsolateBytes / MB).toFixed(2)} MB per isolate (×${margin} for safety, + 1 GiB), ${(freemem() / 1024 / MB).toFixed(1)} GiB free.`);
          ctx.log(`skipping ${count}: not enough free memory`);
          continue;
        }

        // 1. Deploy up to `count`.
        deployer ??= await startIsolane({ args: ['--data-dir', dataDir, '--max-isolates', '16'], collect: false });
        const t0 = performance.now();
        let next = deployed;
        const via = deployer;
        await Promise.all(
          Array.from({ length: DEPLOY_CONCURRENCY }, async () => {
            while (next < count) {
              const i = next++;
              await via.deployModule(name(i), source(i));
            }
          }),
        );
        const took = (performance.now() - t0) / 1000;
        deploySeconds += took;
        ctx.log(`deployed ${count - deployed} workers in ${took.toFixed(1)} s (${((count - deployed) / took).toFixed(0)}/s)`);
        deployed = count;

        // 2. Restart with room for every isolate; baseline.
        const processes = servingProcessesFor(count);
        server = await startIsolane({ args: ['--data-dir', dataDir, '--executors', String(processes), '--max-isolates', String(processes * (count + 32)), '--max-isolate-memory-mb', '1000000', '--recycle-rss-mb', '0'], readyTimeoutMs: 120_000 });
        await waitReady(server);
        await sleep(1100);
        const baseline = await rss(server);
        clients = await openClients(server, processes);

        // 3. One request each.
        const warmFrom = server.lines.length;
        const warm: Outcome = { requests: 0, wrong: 0, failed: 0, samples: [] };
        const tw = performance.now();
        await requestAll(clients, count, warm);
        const warmS = (performance.now() - tw) / 1000;
        await waitRecords(server, warmFrom, count);
        const { cold } = coldSince(server, warmFrom);
        await sleep(1100);
        const after = await rss(server);
        // Per isolate the pools hold: past their bounds (memory mappings first, at vm.max_map_count's
        // default) some of the `cold` were evicted again, and their memory is not all back with the system.
        const perIsolate = (after.total - baseline.total) / after.warm;
        perIsolateBytes = Math.max(perIsolate, 1 * MB);
        margin = 1.1;

        // 3b. Idle: every warm isolate has had its memory-reducing collection.
        const gc = await waitIdleGc(server, after.warm);
        await sleep(1100);
        const idle = await rss(server);
        const perIdleIsolate = (idle.total - baseline.total) / idle.warm;
        if (after.warm < cold) {
          notes.push(`${count} workers: the serving processes held ${after.warm} warm isolates of the ${cold} built (${after.evicted} evicted by the pools' bounds: each process's memory mappings, by vm.max_map_count, ${maxMapCount()} here, src/limits/map-count.ts; and at most ${MAX_ISOLATES_PER_PROCESS} isolates per process, src/limits/address-space.ts). MB per isolate is over those held.`);
        }
        ctx.log(`${count}: idle GC of ${gc.reduced} isolates (${gc.cpuMs.toFixed(0)} ms of CPU) after ${gc.waitedS.toFixed(1)} s; RSS ${(idle.total / MB).toFixed(0)} MB, ${(perIdleIsolate / MB).toFixed(2)} MB per idle warm isolate`);

        // 4. Warm latency, requests spread over every worker.
        const latFrom = server.lines.length;
        const lat: Outcome = { requests: 0, wrong: 0, failed: 0, samples: [] };
        const latencies: number[] = [];
        const deadline = performance.now() + ctx.seconds * 1000;
        const tl = performance.now();
        await Promise.all(
          clients.map(async (client, k) => {
            const group = k % processes;
            while (performance.now() < deadline) {
              const i = group + processes * Math.floor(Math.random() * Math.ceil((count - group) / processes));
              if (i < count) await get(client, i, lat, latencies);
            }
          }),
        );
        const latS = (performance.now() - tl) / 1000;
        await waitRecords(server, latFrom, lat.requests);
        const latCold = coldSince(server, latFrom).cold;
        const p = percentiles(latencies);
        const system = (await server.admin('GET', '/v1/system')) as System;
        rows.push([
          count,
          processes,
          cold,
          after.warm,
          round(baseline.total / MB, 0),
          round(after.total / MB, 0),
          after.each.map((b) => round(b / MB, 0)).join(' + '),
          round(perIsolate / MB),
          round(idle.total / MB, 0),
          gc.reduced < idle.warm ? `${round(perIdleIsolate / MB)} (${gc.reduced} of ${idle.warm} collected)` : round(perIdleIsolate / MB),
          round(gc.cpuMs / gc.reduced || 0, 1),
          round(warmS, 1),
          round(lat.requests / latS, 0),
          round(p.p50),
          round(p.p99),
          latCold,
          warm.wrong + warm.failed + lat.wrong + lat.failed,
          system.restarts,
        ]);
        rssPoints.push([count, round(after.total / MB, 0)]);
        if (after.warm >= cold) isolanePerIsolate.set(count, perIsolate / MB);
        // Met only with every worker warm at once: that is what the count asks.
        const allWarm = after.warm >= cold;
        targets.push({ name: `RSS per warm isolate just after its request, ${count} workers${allWarm ? '' : ` (${after.warm} held)`}`, measured: round(perIsolate / MB), unit: 'MB', target: '<= 2 MB (workerd ~1.5 MB), every worker warm', met: allWarm && perIsolate <= 2 * MB });
        targets.push({ name: `RSS per idle warm isolate (after its idle GC), ${count} workers${allWarm ? '' : ` (${idle.warm} held)`}`, measured: round(perIdleIsolate / MB), unit: 'MB', target: '<= 2 MB (workerd ~1.5 MB), every worker warm', met: allWarm && gc.reduced >= idle.warm && perIdleIsolate <= 2 * MB });
        const events = server.lines.filter((l) => typeof l.type === 'string' && l.type.startsWith('serving-'));
        if (events.length) notes.push(`${count} workers, serving process events: ${events.map((e) => JSON.stringify(e)).join('; ')}`);
        if (warm.samples.length || lat.samples.length) notes.push(`${count} workers, wrong or failed answers: ${[...warm.samples, ...lat.samples].join('; ')}`);
        ctx.log(`${count}: ${cold} cold starts, ${after.warm} warm isolates held, RSS ${(baseline.total / MB).toFixed(0)} → ${(after.total / MB).toFixed(0)} MB, ${(perIsolate / MB).toFixed(2)} MB per isolate; warm p50 ${p.p50.toFixed(2)} ms p99 ${p.p99.toFixed(2)} ms, ${latCold} cold in the latency phase`);
        largest = count;
        await closeAll();
      }
      tables.push({
        title: 'Warm isolates: RSS (sum of serving processes, MB) and warm latency over all workers',
        columns: ['workers', 'serving processes', 'isolates built', 'warm isolates held', 'RSS baseline', 'RSS warm', 'per process', 'MB per isolate', 'RSS idle', 'MB per idle isolate', 'idle GC ms each', 'warm-up s', 'req/s', 'p50 ms', 'p99 ms', 'cold in latency phase', 'wrong/failed', 'process restarts'],
        rows,
      });
      charts.push({ kind: 'lines', title: 'RSS of the serving processes with every worker warm', xLabel: 'workers', unit: 'MB', series: [{ label: 'RSS', points: rssPoints }] });

      // 4b. workerd side by side, at the counts it fits.
      const workerdRows: (string | number)[][] = [];
      for (const count of counts.filter((c) => c <= WORKERD_MAX_WORKERS)) {
        try {
          ctx.log(`density: workerd with ${count} workers`);
          const w = await workerdDensity(count, ctx);
          const ours = isolanePerIsolate.get(count);
          workerdRows.push([count, round(w.startS, 1), round(w.rssOne / MB, 0), round(w.rssAll / MB, 0), round(w.perIsolate / MB), ours === undefined ? 'n/a' : round(ours), ours === undefined ? 'n/a' : `${round(ours / (w.perIsolate / MB))}x`, w.wrong]);
        } catch (err) {
          if (!(err instanceof PeerUnavailable)) throw err;
          notes.push(`workerd skipped: ${err.message}`);
          break;
        }
      }
      if (workerdRows.length) {
        tables.push({
          title: 'The same workers on workerd (one process, each worker its own service and socket), requested once each',
          columns: ['workers', 'workerd start s', 'RSS with 1 worker MB', 'RSS with all MB', 'workerd MB per isolate', 'Isolane MB per isolate', 'Isolane ÷ workerd', 'wrong/failed'],
          rows: workerdRows,
        });
      }
      const skipped = counts.filter((c) => c > WORKERD_MAX_WORKERS);
      if (skipped.length) notes.push(`workerd was measured at ${WORKERD_MAX_WORKERS} workers at most (not at ${skipped.join(', ')}): it builds every worker of its config at start.`);

      // 5. Past the cache bound.
      await deployer?.stop();
      deployer = undefined;
      if (largest) {
        const bound = Math.max(64, Math.floor(largest / 4));
        server = await startIsolane({ args: ['--data-dir', dataDir, '--max-isolates', String(bound), '--max-isolate-memory-mb', '1000000', '--recycle-rss-mb', '0'], readyTimeoutMs: 120_000 });
        await waitReady(server);
        await sleep(1100);
        const baseline = await rss(server);
        clients = await openClients(server, availableParallelism()); // the server's default
        const from = server.lines.length;
        const out: Outcome = { requests: 0, wrong: 0, failed: 0, samples: [] };
        const evRows: (string | number)[][] = [['baseline', 0, round(baseline.total / MB, 0), baseline.each.map((b) => round(b / MB, 0)).join(' + '), baseline.warm, baseline.evicted]];
        const passes = ctx.quick ? 1 : 2;
        for (let pass = 1; pass <= passes; pass++) {
          await requestAll(clients, largest, out);
          await sleep(1100);
          const now = await rss(server);
          evRows.push([`after pass ${pass}`, out.requests, round(now.total / MB, 0), now.each.map((b) => round(b / MB, 0)).join(' + '), now.warm, now.evicted]);
        }
        await waitRecords(server, from, out.requests);
        const { cold } = coldSince(server, from);
        const system = (await server.admin('GET', '/v1/system')) as System;
        const unbounded = baseline.total + largest * perIsolateBytes;
        const bounded = baseline.total + bound * perIsolateBytes;
        const last = evRows.at(-1)![2] as number;
        tables.push({
          title: `Past the bound: ${largest} workers, --max-isolates ${bound} (${Math.ceil(bound / availableParallelism())} per serving process, a quarter of which for its offload thread, unused here), each worker requested once per pass (${passes} passes)`,
          columns: ['when', 'requests so far', 'RSS MB', 'per process', 'warm isolates held', 'evicted so far'],
          rows: evRows,
        });
        const wrong = out.wrong + out.failed;
        targets.push({ name: `past the bound: wrong or failed answers of ${out.requests}`, measured: wrong, unit: 'requests', target: '0', met: wrong === 0 });
        targets.push({ name: `past the bound: RSS after ${passes} passes over ${largest} workers`, measured: last, unit: 'MB', target: `bounded (well under ${round(unbounded / MB, 0)} MB, all warm)`, met: last * MB < baseline.total + (unbounded - baseline.total) / 2 });
        notes.push(
          `Past the bound: ${cold} of ${out.requests} requests were cold starts (evictions make them cold again); RSS ${evRows.at(-1)![2]} MB vs ~${round(bounded / MB, 0)} MB expected for ${bound} warm isolates (at most; the serving threads keep three quarters) and ~${round(unbounded / MB, 0)} MB if all ${largest} stayed warm; process restarts ${system.restarts}.`,
        );
        if (out.samples.length) notes.push(`Past the bound, wrong or failed answers: ${out.samples.join('; ')}`);
        charts.push({ kind: 'bars', title: `RSS with ${largest} workers: all warm vs past the bound (${bound})`, unit: 'MB', bars: [{ label: 'all warm', value: rssPoints.at(-1)![1] }, { label: `bound ${bound}, after ${passes} passes`, value: last }] });
        await closeAll();
      }
      notes.push(
        `Deploys: ${deployed} workers over the admin API, ${DEPLOY_CONCURRENCY} at a time, in ${deploySeconds.toFixed(0)} s (${(deployed / deploySeconds).toFixed(0)}/s). RSS comes from GET /v1/system (each serving process reports process.memoryUsage.rss() once a second); the baseline includes the loaded workers' metadata and 4 spare isolates per process.`,
        `Idle: the server runs with its default --idle-gc-ms (${IDLE_GC_MS / 1000} s): a warm isolate unused that long gets one garbage collection in V8's memory-reducing mode, which gives back its young generation's second semi-space and pooled pages. "MB per isolate" is read right after every worker's first request (with thousands of workers, the first ones warmed may already have had theirs), "MB per idle isolate" once every warm isolate has had it; the latency phase then runs on isolates that were collected.`,
        'Latency: closed loop on the keep-alive connections (8, or a multiple of the serving processes) from this process (which shares the 2 cores), each request to a random worker of the connection\'s group; "cold in latency phase" counts cold starts there (0 means every request hit a warm isolate).',
      );
      return { id: 'density', title: this.title, command: 'npm run bench -- --only density' + (ctx.quick ? ' --quick' : ''), tables, targets, charts, notes };
    } finally {
      await closeAll();
      await deployer?.stop().catch(() => {});
      rmSync(dataDir, { recursive: true, force: true });
    }
  },
};

if (import.meta.main) {
  const quick = process.argv.includes('--quick');
  const result = await scenario.run({ quick, rounds: 1, seconds: quick ? 2 : 5, log: (line) => console.error(line) });
  console.log(JSON.stringify(result, null, 2));
}
