/**
 * Warm latency, open loop: measure Isolane's maximum hello-world rate (closed loop), then send requests
 * on a fixed schedule at 50% of it, to Isolane and, at the same absolute rate, to bare node:http and
 * workerd, alternating over rounds. Latency counts from each request's scheduled send time (no
 * coordinated omission): p50/p99/p99.9.
 *
 *   npm run bench -- --only latency [--rounds 3 --seconds 5] [--connections 32] [--rate N]
 */
import { parseArgs } from 'node:util';
import { bundleWorker } from '../lib/bundle.ts';
import { compare, errorNotes, median, noiseNote, rawData, PERCENTILE_TICKS, percentilePoints, runOnce, type System } from '../lib/compare.ts';
import { startIsolane } from '../lib/isolane-server.ts';
import { percentiles } from '../lib/load.ts';
import { startBareNode } from '../lib/peers/bare-node.ts';
import { PeerUnavailable, type Peer } from '../lib/peers/common.ts';
import { startWorkerd } from '../lib/peers/workerd.ts';
import type { Chart, Scenario, ScenarioContext, ScenarioResult, Table, Target } from '../lib/types.ts';

function flags() {
  const { values } = parseArgs({ args: process.argv.slice(2), strict: false, options: { connections: { type: 'string' }, rate: { type: 'string' }, 'no-workerd': { type: 'boolean' } } });
  return { connections: Number(values.connections ?? 32), rate: values.rate === undefined ? undefined : Number(values.rate), workerd: !values['no-workerd'] };
}

const ISOLANE = 'isolane';
const TARGET_P99_MS = 2;

export const scenario: Scenario = {
  id: 'latency',
  title: 'Warm latency (open loop at 50% of Isolane’s max): hello world',
  async run(ctx: ScenarioContext): Promise<ScenarioResult> {
    const opts = flags();
    const notes: string[] = [];
    const tables: Table[] = [];
    const targets: Target[] = [];
    const charts: Chart[] = [];
    const openSeconds = ctx.quick ? 3 : Math.max(10, 2 * ctx.seconds);
    const source = await bundleWorker('hello.js');

    const isolane = await startIsolane({ collect: false });
    const peers: Peer[] = [];
    try {
      await isolane.deployModule('hello', source);
      const own: System = { name: ISOLANE, url: isolane.dataUrl, host: 'hello.localhost', pid: isolane.pid };

      // 1. Isolane's maximum rate, closed loop.
      let rate = opts.rate;
      let max = NaN;
      let maxRuns: unknown;
      if (rate === undefined) {
        ctx.log('latency: measuring Isolane’s max rate (closed loop)');
        const [closed] = await compare({ systems: [own], rounds: ctx.quick ? 1 : 2, load: { connections: opts.connections, seconds: ctx.seconds }, warmupSeconds: ctx.quick ? 1 : 2, log: ctx.log });
        const runs = closed!.rounds;
        maxRuns = rawData([closed!]);
        notes.push(...errorNotes([closed!], 'max-rate runs: '));
        max = closed!.requestsPerSecond;
        rate = Math.round(max / 2);
        ctx.log(`latency: max ${Math.round(max)} req/s (${runs.map((r) => Math.round(r.requestsPerSecond)).join(', ')}) → open loop at ${rate} req/s`);
      }

      // 2. The peers, at the same absolute rate.
      const starters: [string, () => Promise<Peer>][] = [['bare node:http', () => startBareNode()], ...(opts.workerd ? ([['workerd', () => startWorkerd(source, { log: ctx.log })]] as [string, () => Promise<Peer>][]) : [])];
      for (const [name, start] of starters) {
        try {
          peers.push(await start());
        } catch (err) {
          if (!(err instanceof PeerUnavailable)) throw err;
          notes.push(`${name} skipped: ${err.message}`);
          ctx.log(`  ${name} skipped: ${err.message}`);
        }
      }
      const systems: System[] = [own, ...peers];
      const summaries = await compare({
        systems,
        rounds: ctx.rounds,
        mode: 'open',
        load: { connections: opts.connections, seconds: openSeconds, rate, sample: 1000 },
        warmupSeconds: ctx.quick ? 1 : 2,
        log: ctx.log,
      });

      tables.push({
        title: `open loop at ${rate} req/s${Number.isFinite(max) ? ` (50% of Isolane’s measured max, ${Math.round(max)} req/s)` : ' (--rate)'}: ${ctx.rounds} rounds × ${openSeconds} s, medians; latency from the scheduled send time`,
        columns: ['system', 'achieved req/s', 'p50 ms', 'p90 ms', 'p99 ms', 'p99.9 ms', 'max ms', 'p99 from actual send', 'client send lag p99', 'client event-loop delay max', 'errors', 'server CPU %', 'client CPU %', 'other CPU %'],
        rows: summaries.map((s) => [
          s.name,
          s.requestsPerSecond,
          s.p50,
          s.p90,
          s.p99,
          s.p999,
          s.max,
          median(s.rounds.map((r) => r.serviceLatencyMs!.p99)),
          median(s.rounds.map((r) => r.sendLagMs!.p99)),
          median(s.rounds.map((r) => r.clientLoopDelayMs?.max ?? NaN)),
          s.errors,
          s.serverCpuPercent,
          s.clientCpuPercent,
          s.otherCpuPercent,
        ]),
      });
      notes.push(...errorNotes(summaries));
      const outcomes = await isolane.outcomes('hello');
      if (Object.keys(outcomes).some((o) => o !== 'ok')) notes.push(`Isolane's invocation outcomes (all runs): ${Object.entries(outcomes).map(([o, n]) => `${o} ${n}`).join(', ')}.`);
      const noisy = noiseNote(summaries);
      if (noisy) notes.push(noisy);
      const ownSummary = summaries.find((s) => s.name === ISOLANE)!;
      targets.push({ name: 'hello world p99 at 50% of max (open loop)', measured: ownSummary.p99, unit: 'ms', target: `< ${TARGET_P99_MS} ms`, met: ownSummary.p99 < TARGET_P99_MS });
      charts.push({ kind: 'lines', title: `Latency percentiles, open loop at ${rate} req/s`, xLabel: 'percentile', unit: 'ms', logY: true, xTicks: PERCENTILE_TICKS, series: summaries.map((s) => ({ label: s.name, points: percentilePoints(s) })) });
      charts.push({ kind: 'histogram', title: `Isolane latency distribution at ${rate} req/s (all rounds)`, unit: 'ms', values: ownSummary.rounds.flatMap((r) => r.latencySampleMs ?? []) });

      // 3. Where the time goes: one more short run with the invocation records collected, to set the
      //    server's own figures (wall and CPU inside the isolate) against the client's latency.
      isolane.collect = true;
      isolane.records.clear();
      const probe = await runOnce(own, { systems: [own], rounds: 1, mode: 'open', load: { connections: opts.connections, seconds: 2, rate }, log: ctx.log }, 2);
      await new Promise((r) => setTimeout(r, 300));
      isolane.collect = false;
      const records = isolane.records.get('hello') ?? [];
      if (records.length) {
        const wall = percentiles(records.map((r) => Number(r.wallMs)));
        const cpu = percentiles(records.map((r) => Number(r.cpuUs) / 1000));
        tables.push({
          title: `Where the time goes (a 2 s probe at ${rate} req/s with ${records.length} invocation records read; the harness parsing them costs it CPU)`,
          columns: ['measure', 'p50 ms', 'p99 ms', 'p99.9 ms'],
          rows: [
            ['client latency (from scheduled send)', probe.latencyMs.p50, probe.latencyMs.p99, probe.latencyMs.p999],
            ['client latency (from actual send)', probe.serviceLatencyMs!.p50, probe.serviceLatencyMs!.p99, probe.serviceLatencyMs!.p999],
            ['server: invocation wall time (record wallMs)', wall.p50, wall.p99, wall.p999],
            ['server: CPU inside the isolate (record cpuUs)', cpu.p50, cpu.p99, cpu.p999],
          ],
        });
      }
      notes.push(
        `Open loop: requests are due at fixed intervals; a 1 ms timer in the harness sends every due request (a busy loop would take a core from the servers), so requests leave in small bursts and up to ~1 ms late: the "client send lag" column. Latency counts from the due time, so that lag is included; "p99 from actual send" excludes it.`,
        `The peers get the same absolute rate, which is a smaller share of bare node:http's maximum and a larger share of workerd's (see the throughput scenario).`,
        `Load: bench/lib/load-process.ts in a process of its own (a lean HTTP/1.1 client over ${opts.connections} keep-alive connections, 1 s at the rate before the counted seconds), on the same machine. Isolane: \`src/cli.ts serve\` with defaults, metering on.`,
      );
      return {
        id: 'latency',
        title: this.title,
        command: `npm run bench -- --only latency --rounds ${ctx.rounds} --seconds ${ctx.seconds}${ctx.quick ? ' --quick' : ''}`,
        tables,
        targets,
        charts,
        notes,
        data: { maxRate: max, maxRuns, rate, openLoop: rawData(summaries) },
      };
    } finally {
      for (const peer of peers) await peer.stop();
      await isolane.stop();
    }
  },
};
