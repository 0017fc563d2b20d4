/**
 * Warm throughput, closed loop: hello world, a Hono JSON route and a Hono JSON POST through Isolane's full path (Host
 * routing, admission, the isolate, metering with a JSON line per request to stdout), against the same
 * worker on bare Node, workerd and edge-runtime, in one session: alternating rounds, medians, and the
 * median of the per-round ratios.
 *
 *   npm run bench -- --only throughput [--rounds 3 --seconds 5] [--connections 32] [--pipelining 1]
 */
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { bundleWorker } from '../lib/bundle.ts';
import { compare, errorNotes, median, noiseNote, rawData, PERCENTILE_TICKS, percentilePoints, type System, type SystemSummary } from '../lib/compare.ts';
import { startIsolane } from '../lib/isolane-server.ts';
import { closedLoopClient } from '../lib/load.ts';
import { startBareNode, startNodeAdapter } from '../lib/peers/bare-node.ts';
import { PeerUnavailable, type Peer } from '../lib/peers/common.ts';
import { startEdgeRuntime } from '../lib/peers/edge-runtime.ts';
import { startWorkerd } from '../lib/peers/workerd.ts';
import type { Chart, Scenario, ScenarioContext, ScenarioResult, Table, Target } from '../lib/types.ts';

/** Flags of this scenario (the runner passes every argument through; unknown ones are ignored). */
function flags() {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    strict: false,
    options: { connections: { type: 'string' }, pipelining: { type: 'string' }, 'no-edge': { type: 'boolean' }, executors: { type: 'string' } },
  });
  return {
    connections: Number(values.connections ?? 32),
    pipelining: Number(values.pipelining ?? 1),
    edge: !values['no-edge'],
    /** Isolane's serving processes (default: its own, one per core). */
    executors: values.executors === undefined ? null : Number(values.executors),
  };
}

interface Workload {
  id: string;
  title: string;
  file: string;
  path: string;
  /** A POST's JSON body (the request is a GET without one). */
  body?: string;
  /** A GET path that answers 200, to tell that a peer is up. */
  readyPath: string;
  /** Name of the Node baseline for this workload. */
  baseline: string;
  startBaseline(source: string): Promise<Peer>;
  /** Whether the issue's targets (>= 0.6x the baseline, >= 2x workerd) apply. */
  targets: boolean;
}

const WORKLOADS: Workload[] = [
  { id: 'hello', title: 'hello world', file: 'hello.js', path: '/', readyPath: '/', baseline: 'bare node:http', startBaseline: () => startBareNode(), targets: true },
  { id: 'hono', title: 'Hono JSON route (GET /api/users/42)', file: 'hono-json.js', path: '/api/users/42', readyPath: '/api/users/42', baseline: 'node:http + Hono adapter', startBaseline: (source) => startNodeAdapter(source, '/api/users/42'), targets: true },
  // A JSON API's usual request: a small body read with `await c.req.json()`. No target of its own.
  {
    id: 'hono-post',
    title: 'Hono JSON POST (POST /api/users, 40-byte JSON body)',
    file: 'hono-json.js',
    path: '/api/users',
    body: '{"name":"Ada Lovelace","email":"ada@ex.org"}',
    readyPath: '/api/users/42',
    baseline: 'node:http + Hono adapter',
    startBaseline: (source) => startNodeAdapter(source, '/api/users/42'),
    targets: false,
  },
];

const ISOLANE = 'isolane';

export const scenario: Scenario = {
  id: 'throughput',
  title: 'Warm throughput (closed loop): Isolane vs Node, workerd, edge-runtime',
  async run(ctx: ScenarioContext): Promise<ScenarioResult> {
    const opts = flags();
    const notes: string[] = [];
    const tables: Table[] = [];
    const targets: Target[] = [];
    const charts: Chart[] = [];
    const versions = new Map<string, string>();
    const data: Record<string, unknown> = {};

    const isolane = await startIsolane({ collect: false, args: opts.executors === null ? [] : ['--executors', String(opts.executors)] });
    try {
      const sources = new Map<string, string>();
      for (const w of WORKLOADS) {
        sources.set(w.id, await bundleWorker(w.file));
        await isolane.deployModule(w.id, sources.get(w.id)!);
      }
      const hono = sources.get('hono')!;
      notes.push(`Hono bundle: ${(hono.length / 1024).toFixed(1)} KiB (esbuild, ESM, not minified); the same module runs on every system.`);

      for (const w of WORKLOADS) {
        ctx.log(`throughput: ${w.title}`);
        const source = sources.get(w.id)!;
        const peers: Peer[] = [];
        const starters: [string, () => Promise<Peer>][] = [
          [w.baseline, () => w.startBaseline(source)],
          ['workerd', () => startWorkerd(source, { path: w.readyPath, log: ctx.log })],
          ...(opts.edge ? ([['edge-runtime', () => startEdgeRuntime(source, { path: w.readyPath, log: ctx.log })]] as [string, () => Promise<Peer>][]) : []),
        ];
        for (const [name, start] of starters) {
          try {
            const peer = await start();
            peers.push(peer);
            versions.set(peer.name, `${peer.version}: ${peer.describe}`);
          } catch (err) {
            if (!(err instanceof PeerUnavailable)) throw err;
            const note = `${name} skipped for ${w.title}: ${err.message}`;
            ctx.log(`  ${note}`);
            if (!notes.some((n) => n.startsWith(`${name} skipped`))) notes.push(note);
          }
        }
        try {
          const systems: System[] = [{ name: ISOLANE, url: isolane.dataUrl, host: `${w.id}.localhost`, pid: isolane.pid }, ...peers];
          const summaries = await compare({
            systems,
            rounds: ctx.rounds,
            load: { connections: opts.connections, pipelining: opts.pipelining, seconds: ctx.seconds, path: w.path, ...(w.body === undefined ? {} : { method: 'POST', body: w.body, headers: { 'content-type': 'application/json' } }) },
            warmupSeconds: ctx.quick ? 1 : 2,
            log: ctx.log,
            reference: ISOLANE,
          });
          tables.push(summaryTable(w, summaries, ctx));
          charts.push({ kind: 'bars', title: `${w.title}: requests/s (median of ${ctx.rounds})`, unit: 'req/s', bars: summaries.map((s) => ({ label: s.name, value: s.requestsPerSecond })) });
          charts.push({ kind: 'lines', title: `${w.title}: latency percentiles at max throughput`, xLabel: 'percentile', unit: 'ms', logY: true, xTicks: PERCENTILE_TICKS, series: summaries.map((s) => ({ label: s.name, points: percentilePoints(s) })) });
          for (const peer of summaries) {
            if (peer.name === ISOLANE || !w.targets) continue;
            // isolane ÷ peer per round = 1 / (peer ÷ isolane).
            const ratio = median(peer.perRoundRatios!.map((r) => 1 / r));
            // How many rounds the ratio stands on: on these machines one round of 2 s has given 0.37x and
            // 0.74x minutes apart (docs/BENCHMARKS.md, session 19).
            const basis = `req/s, median of ${ctx.rounds} round${ctx.rounds === 1 ? '' : 's'} of ${ctx.seconds} s`;
            if (peer.name === w.baseline) targets.push({ name: `${w.title}: Isolane ÷ ${peer.name} (${basis})`, measured: ratio, unit: 'x', target: `>= 0.6x ${peer.name}`, met: ratio >= 0.6 });
            if (peer.name === 'workerd') targets.push({ name: `${w.title}: Isolane ÷ workerd (${basis})`, measured: ratio, unit: 'x', target: '>= 2x workerd', met: ratio >= 2 });
          }
          const costs = summaries.map((s) => `${s.name} ${cpuPerRequestUs(s).toFixed(0)} µs`).join(', ');
          notes.push(`${w.title}: server CPU per request (independent of who limits the rate): ${costs}.`);
          charts.push({ kind: 'bars', title: `${w.title}: server CPU per request`, unit: 'µs', bars: summaries.map((s) => ({ label: s.name, value: cpuPerRequestUs(s) })) });
          const bottleneck = summaries.filter((s) => s.clientCpuPercent >= 90).map((s) => `${s.name} (client ${s.clientCpuPercent.toFixed(0)}%)`);
          if (bottleneck.length) notes.push(`${w.title}: the load generator used a full core against ${bottleneck.join(', ')}: there the figure is a floor set by the client, not the server's maximum.`);
          if (ctx.rounds < 3 && w.targets) notes.push(`${w.title}: ${ctx.rounds} round${ctx.rounds === 1 ? '' : 's'} only: the ratios are indicative; \`--rounds 5\` gives a median to rely on.`);
          const noisy = noiseNote(summaries);
          if (noisy) notes.push(`${w.title}: ${noisy}`);
          notes.push(...errorNotes(summaries, `${w.title}: `));
          const outcomes = await isolane.outcomes(w.id);
          const failed = Object.entries(outcomes).filter(([o]) => o !== 'ok');
          if (failed.length) notes.push(`${w.title}: Isolane's invocation outcomes (warm-up included): ${Object.entries(outcomes).map(([o, n]) => `${o} ${n}`).join(', ')}.`);
          data[w.id] = rawData(summaries);
        } finally {
          for (const peer of peers) await peer.stop();
        }
      }
    } finally {
      await isolane.stop();
    }
    notes.push(
      `Isolane: \`src/cli.ts serve\` (${opts.executors === null ? "one serving process per core, the default" : `--executors ${opts.executors}`}, metering on, one JSON line per request to stdout, read and discarded by the harness).`,
    );
    for (const [name, v] of versions) notes.push(`${name}: ${v}.`);
    const undici = closedLoopClient(opts.pipelining) === 'undici';
    notes.push(
      `Load: ${undici ? `undici Pool from the harness process, pipelining ${opts.pipelining}` : 'bench/lib/load-process.ts in a process of its own (a lean HTTP/1.1 client; `--client undici` for undici from the harness process)'}, ${opts.connections} keep-alive connections, on the same ${cpus().length}-core machine; "server CPU" is the server's process tree (from /proc), "client CPU" the load generator's, "other CPU" everything else on the machine, all in % of one core. Ratios are the median of per-round ratios (each round runs every system back to back).`,
    );
    return {
      id: 'throughput',
      title: this.title,
      command: `npm run bench -- --only throughput --rounds ${ctx.rounds} --seconds ${ctx.seconds}${opts.executors !== null ? ` --executors ${opts.executors}` : ''}${opts.connections !== 32 ? ` --connections ${opts.connections}` : ''}${opts.pipelining !== 1 ? ` --pipelining ${opts.pipelining}` : ''}`,
      tables,
      targets,
      charts,
      notes,
      data,
    };
  },
};

/** Server CPU per request (µs), median over rounds: what a request costs the server, whoever limits the rate. */
function cpuPerRequestUs(s: SystemSummary): number {
  return median(s.rounds.map((r) => (r.serverCpuPercent / 100 / r.requestsPerSecond) * 1e6));
}

function summaryTable(w: Workload, summaries: SystemSummary[], ctx: ScenarioContext): Table {
  return {
    title: `${w.title}: ${ctx.rounds} rounds × ${ctx.seconds} s, medians`,
    columns: ['system', 'req/s', 'Isolane ÷ this (per-round median)', 'p50 ms', 'p99 ms', 'p99.9 ms', 'errors', 'server CPU %', 'server CPU µs per request', 'client CPU %', 'other CPU %'],
    rows: summaries.map((s) => [
      s.name,
      s.requestsPerSecond,
      s.name === ISOLANE ? '1' : `${median(s.perRoundRatios!.map((r) => 1 / r)).toFixed(2)}x (${s.perRoundRatios!.map((r) => (1 / r).toFixed(2)).join(', ')})`,
      s.p50,
      s.p99,
      s.p999,
      s.errors,
      s.serverCpuPercent,
      cpuPerRequestUs(s),
      s.clientCpuPercent,
      s.otherCpuPercent,
    ]),
  };
}
