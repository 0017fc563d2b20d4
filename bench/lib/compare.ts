/**
 * Side-by-side runs: the same load against several systems in one session, one after another,
 * in alternating order over several rounds, then medians per system and per-round ratios against one
 * of them. Also the server's CPU (its process tree, from /proc) per round next to the client's.
 */
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { closedLoop, openLoop, type LoadOptions, type LoadResult } from './load.ts';
import { machineBusySeconds, treeCpuSeconds } from './proc.ts';

export interface System {
  name: string;
  url: string;
  host: string;
  pid: number;
}

export interface RoundResult extends LoadResult {
  round: number;
  /** CPU of the server's process tree during the round, % of one core. */
  serverCpuPercent: number;
  /** CPU used by everything else on the machine (neither the server nor this process), % of one core. */
  otherCpuPercent: number;
  /** How many times this run was repeated because other processes were busy (see noisePolicy). */
  retried?: number;
}

export interface SystemSummary {
  name: string;
  rounds: RoundResult[];
  requestsPerSecond: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  errors: number;
  serverCpuPercent: number;
  clientCpuPercent: number;
  otherCpuPercent: number;
  /** Median over rounds of (this system's req/s ÷ the reference's req/s in the same round). */
  ratioToReference?: number;
  perRoundRatios?: number[];
}

export const median = (values: number[]): number => {
  const sorted = values.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  if (!sorted.length) return NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

export interface CompareOptions {
  systems: System[];
  rounds: number;
  /** The load of one round (url and host are taken from each system). */
  load: Omit<LoadOptions, 'url' | 'host'> & { rate?: number };
  /** Closed loop (default) or open loop at `load.rate`. */
  mode?: 'closed' | 'open';
  warmupSeconds?: number;
  /** Pause between runs so the previous server's connections close and the CPU settles. */
  pauseMs?: number;
  log(line: string): void;
  /** Name of the system ratios are taken against (`a ÷ reference`); default: none. */
  reference?: string;
}

export function describeRound(r: LoadResult & { serverCpuPercent: number; otherCpuPercent: number }): string {
  const rate = `${Math.round(r.requestsPerSecond).toString().padStart(6)} req/s`;
  return `${rate}  p50 ${r.latencyMs.p50.toFixed(2)}  p99 ${r.latencyMs.p99.toFixed(2)}  p999 ${r.latencyMs.p999.toFixed(2)} ms  errors ${r.errors}  CPU server ${r.serverCpuPercent.toFixed(0)}% client ${r.clientCpuPercent.toFixed(0)}% other ${r.otherCpuPercent.toFixed(0)}%`;
}

/**
 * A full GC of the harness's heap before a run, so garbage left by the previous run (a closed loop makes
 * plenty) is not collected during this one. (On this project's VM it did not remove the load generator's
 * event-loop stalls of up to ~25 ms: those come from the machine; see docs/BENCHMARKS.md.)
 */
let gc: (() => void) | undefined;
export function collectGarbage(): void {
  if (!gc) {
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc') as () => void;
  }
  gc();
}

export async function runOnce(system: System, options: CompareOptions, seconds: number): Promise<LoadResult & { serverCpuPercent: number; otherCpuPercent: number }> {
  collectGarbage();
  const cpuBefore = treeCpuSeconds(system.pid);
  const busyBefore = machineBusySeconds();
  const selfBefore = process.cpuUsage();
  const started = performance.now();
  const load = { ...options.load, url: system.url, host: system.host, seconds };
  const result = options.mode === 'open' ? await openLoop({ ...load, rate: options.load.rate! }) : await closedLoop(load);
  const wall = (performance.now() - started) / 1000;
  const server = treeCpuSeconds(system.pid) - cpuBefore;
  const self = process.cpuUsage(selfBefore);
  // An open loop's load process is neither the server nor this process: its CPU is the client's too.
  const other = machineBusySeconds() - busyBefore - server - (self.user + self.system) / 1e6 - (result.clientCpuSeconds ?? 0);
  return { ...result, serverCpuPercent: (server / wall) * 100, otherCpuPercent: Math.max(0, (other / wall) * 100) };
}

/**
 * On a shared machine another process can take a core in the middle of a round. A run during which
 * everything else used more than `--noise-threshold` % of a core (default 25) is run again, at most
 * `--noise-retries` times (default 1); the last attempt counts whatever it measured.
 */
export function noisePolicy(): { threshold: number; retries: number; waitQuietSeconds: number } {
  const { values } = parseArgs({ args: process.argv.slice(2), strict: false, options: { 'noise-threshold': { type: 'string' }, 'noise-retries': { type: 'string' }, 'wait-quiet': { type: 'string' } } });
  return { threshold: Number(values['noise-threshold'] ?? 25), retries: Number(values['noise-retries'] ?? 1), waitQuietSeconds: Number(values['wait-quiet'] ?? 0) };
}

/** CPU used by everything but this process over `ms` (the servers under test idle meanwhile), % of one core. */
export async function otherCpuPercent(ms = 500): Promise<number> {
  const busy = machineBusySeconds();
  const self = process.cpuUsage();
  await new Promise((r) => setTimeout(r, ms));
  const own = process.cpuUsage(self);
  return ((machineBusySeconds() - busy - (own.user + own.system) / 1e6) / (ms / 1000)) * 100;
}

/**
 * With `--wait-quiet S`: before a run, wait (at most S seconds) until other processes use less than the
 * noise threshold, so that each measurement falls in a quiet moment of a shared machine.
 */
async function waitQuiet(noise: { threshold: number; waitQuietSeconds: number }, log: (line: string) => void): Promise<void> {
  if (!(noise.waitQuietSeconds > 0)) return;
  const deadline = performance.now() + noise.waitQuietSeconds * 1000;
  let busy = await otherCpuPercent();
  if (busy <= noise.threshold) return;
  log(`  waiting for a quiet machine (other processes: ${busy.toFixed(0)}% of a core; at most ${noise.waitQuietSeconds} s)`);
  while (busy > noise.threshold && performance.now() < deadline) busy = await otherCpuPercent();
}

export async function compare(options: CompareOptions): Promise<SystemSummary[]> {
  const noise = noisePolicy();
  const { systems, rounds, log } = options;
  const pause = () => new Promise((r) => setTimeout(r, options.pauseMs ?? 300));
  if (options.warmupSeconds) {
    for (const system of systems) {
      log(`  warm-up ${system.name} (${options.warmupSeconds} s)`);
      // Warm up closed-loop even for open-loop runs: JIT, pools and caches, whatever the rate.
      await runOnce(system, { ...options, mode: 'closed' }, options.warmupSeconds);
      await pause();
    }
  }
  const byName = new Map<string, RoundResult[]>(systems.map((s) => [s.name, []]));
  for (let round = 1; round <= rounds; round++) {
    // Rotate the order each round (and reverse every other one), so no system always goes first or
    // always follows the same neighbour.
    const shift = (round - 1) % systems.length;
    let order = [...systems.slice(shift), ...systems.slice(0, shift)];
    if (round % 2 === 0) order = order.reverse();
    for (const system of order) {
      await waitQuiet(noise, log);
      let result = await runOnce(system, options, options.load.seconds);
      let retried = 0;
      while (result.otherCpuPercent > noise.threshold && retried < noise.retries) {
        retried++;
        log(`  round ${round}/${rounds} ${system.name.padEnd(26)} ${describeRound(result)}: other processes were busy, run again (${retried}/${noise.retries})`);
        await pause();
        await waitQuiet(noise, log);
        result = await runOnce(system, options, options.load.seconds);
      }
      byName.get(system.name)!.push({ ...result, round, ...(retried ? { retried } : {}) });
      log(`  round ${round}/${rounds} ${system.name.padEnd(26)} ${describeRound(result)}`);
      await pause();
    }
  }
  const reference = options.reference ? byName.get(options.reference) : undefined;
  return systems.map((system) => {
    const list = byName.get(system.name)!;
    const summary: SystemSummary = {
      name: system.name,
      rounds: list,
      requestsPerSecond: median(list.map((r) => r.requestsPerSecond)),
      p50: median(list.map((r) => r.latencyMs.p50)),
      p90: median(list.map((r) => r.latencyMs.p90)),
      p99: median(list.map((r) => r.latencyMs.p99)),
      p999: median(list.map((r) => r.latencyMs.p999)),
      max: Math.max(...list.map((r) => r.latencyMs.max)),
      errors: list.reduce((sum, r) => sum + r.errors, 0),
      serverCpuPercent: median(list.map((r) => r.serverCpuPercent)),
      clientCpuPercent: median(list.map((r) => r.clientCpuPercent)),
      otherCpuPercent: median(list.map((r) => r.otherCpuPercent)),
    };
    if (reference) {
      const ratios = list.map((r) => {
        const ref = reference.find((x) => x.round === r.round);
        return ref ? r.requestsPerSecond / ref.requestsPerSecond : NaN;
      });
      summary.perRoundRatios = ratios;
      summary.ratioToReference = median(ratios);
    }
    return summary;
  });
}

/** x positions for percentiles on a log scale of 1/(1-q): 50 → 0.3, 90 → 1, 99 → 2, 99.9 → 3. */
export const PERCENTILE_TICKS = [
  { value: -Math.log10(0.5), label: 'p50' },
  { value: 1, label: 'p90' },
  { value: 2, label: 'p99' },
  { value: 3, label: 'p99.9' },
];

export function percentilePoints(s: { p50: number; p90: number; p99: number; p999: number }): [number, number][] {
  return [
    [-Math.log10(0.5), s.p50],
    [1, s.p90],
    [2, s.p99],
    [3, s.p999],
  ];
}

/** A note on runs repeated because the machine was busy, for a scenario's notes; undefined if none. */
export function noiseNote(summaries: SystemSummary[]): string | undefined {
  const runs = summaries.flatMap((s) => s.rounds);
  const repeated = runs.filter((r) => r.retried).reduce((sum, r) => sum + r.retried!, 0);
  const { threshold, retries } = noisePolicy();
  const stillBusy = runs.filter((r) => r.otherCpuPercent > threshold).length;
  if (!repeated && !stillBusy) return undefined;
  return `Shared machine: ${repeated} run(s) were repeated because other processes used more than ${threshold}% of a core during them${stillBusy ? `; ${stillBusy} of ${runs.length} counted runs were still busy after ${retries} repeats (see the "other CPU" column)` : ''}.`;
}

/** The summaries without the latency samples (kept for charts only), for a scenario's `data`. */
export function rawData(summaries: SystemSummary[]): unknown {
  return summaries.map((s) => ({ ...s, rounds: s.rounds.map(({ latencySampleMs: _, ...r }) => r) }));
}

/** Notes on failed requests (first error messages), one per system that had any. */
export function errorNotes(summaries: SystemSummary[], prefix = ''): string[] {
  return summaries
    .filter((s) => s.errors > 0)
    .map((s) => {
      const samples = [...new Set(s.rounds.flatMap((r) => [...(r.errorSamples ?? []), ...(r.unfinished ? [`${r.unfinished} unanswered 5 s after the end`] : [])]))].slice(0, 4);
      return `${prefix}${s.name}: ${s.errors} failed request(s) over ${s.rounds.length} rounds (${samples.join('; ') || 'no message'}).`;
    });
}
