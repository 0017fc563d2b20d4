/**
 * Load generation, from a process of its own with a lean HTTP/1.1 client (load-process.ts,
 * http1-client.ts). On a 2-core machine the load generator competes with the server, so every result
 * carries the client's own CPU use (% of one core).
 *
 * - closedLoop: N connections for S seconds, each sending its next request as soon as the previous one
 *   is answered: the maximum throughput. `--client undici` (or pipelining) runs undici's Pool from this
 *   process instead, as the harness did before session 8.
 * - openLoop: requests sent on a fixed schedule (rate per second) whatever the server does; latency is measured
 *   from each request's scheduled send time, so a stall on either side shows up in the percentiles
 *   instead of silently lowering the rate (coordinated omission). Also reported: the latency from the
 *   actual send (`serviceLatencyMs`), how late the client's timer sent (`sendLagMs`) and how long its
 *   event loop was blocked.
 *
 * Load only ever goes to loopback: a URL whose host is not 127.0.0.1, ::1 or localhost is refused.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import type { LoadJob } from './load-process.ts';

export interface Percentiles {
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

export interface LoadResult {
  requests: number;
  errors: number;
  seconds: number;
  requestsPerSecond: number;
  latencyMs: Percentiles;
  /** CPU time of the load generator during the run, % of one core. */
  clientCpuPercent: number;
  /** Open loop: all the CPU its load process used, start-up and warm-up included (the harness's own is measured apart). */
  clientCpuSeconds?: number;
  /** By status code; `error` counts requests that failed without a response. */
  statusCounts: Record<string, number>;
  /** Open loop only: the target rate. */
  targetRate?: number;
  /** Open loop only: latency from the actual send rather than the scheduled one. */
  serviceLatencyMs?: Percentiles;
  /** Open loop only: how late requests were sent relative to their schedule (client timer). */
  sendLagMs?: Percentiles;
  /** Open loop only: how long this process's event loop was blocked (GC, response handling): p99 and max, ms. */
  clientLoopDelayMs?: { p99: number; max: number };
  /** Open loop only: requests still unanswered at the end (counted as errors). */
  unfinished?: number;
  /** The first few error messages, for the notes. */
  errorSamples?: string[];
  /** With `sample`: that many latencies (ms) at evenly spaced quantiles, ascending. */
  latencySampleMs?: number[];
}

export interface LoadOptions {
  /** Origin of the server, e.g. http://127.0.0.1:8080 (loopback only). */
  url: string;
  /** Host header (routes the request in Isolane). */
  host: string;
  connections: number;
  seconds: number;
  path?: string;
  method?: string;
  body?: string;
  headers?: Record<string, string>;
  /** Requests in flight per connection (HTTP/1.1 pipelining; default 1). */
  pipelining?: number;
  /** Status that counts as success (default 200). */
  expectStatus?: number;
  /** Keep this many latencies, evenly spaced quantiles of all of them, as `latencySampleMs` (for histograms). */
  sample?: number;
}

export interface OpenLoopOptions extends LoadOptions {
  /** Requests per second, sent on a fixed schedule. */
  rate: number;
}

const LOOPBACK = new Set(['127.0.0.1', '[::1]', 'localhost']);

function checkLoopback(url: string): void {
  const { hostname } = new URL(url);
  if (!LOOPBACK.has(hostname)) throw new Error(`load is only sent to loopback, not ${url}`);
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** `count` values at evenly spaced quantiles of `values` (ascending): the distribution, small. */
export function quantileSample(values: Float64Array | number[], count: number): number[] {
  const sorted = Float64Array.from(values).sort();
  if (sorted.length <= count) return Array.from(sorted);
  return Array.from({ length: count }, (_, i) => sorted[Math.min(sorted.length - 1, Math.floor(((i + 0.5) / count) * sorted.length))]!);
}

export function percentiles(values: Float64Array | number[]): Percentiles {
  const sorted = Float64Array.from(values).sort();
  return { p50: percentile(sorted, 0.5), p90: percentile(sorted, 0.9), p99: percentile(sorted, 0.99), p999: percentile(sorted, 0.999), max: sorted.length ? sorted[sorted.length - 1]! : NaN };
}

/** A growable array of doubles that does not box numbers. */
export class Samples {
  #data = new Float64Array(1 << 16);
  length = 0;
  push(value: number): void {
    if (this.length === this.#data.length) {
      const grown = new Float64Array(this.#data.length * 2);
      grown.set(this.#data);
      this.#data = grown;
    }
    this.#data[this.length++] = value;
  }
  values(): Float64Array {
    return this.#data.subarray(0, this.length);
  }
}

export interface Counters {
  errors: number;
  statusCounts: Record<string, number>;
  errorSamples: string[];
}

function newCounters(): Counters {
  return { errors: 0, statusCounts: {}, errorSamples: [] };
}

function countError(c: Counters, err: unknown): void {
  c.errors++;
  c.statusCounts.error = (c.statusCounts.error ?? 0) + 1;
  if (c.errorSamples.length < 5) c.errorSamples.push(err instanceof Error ? `${(err as NodeJS.ErrnoException).code ?? err.name}: ${err.message}` : String(err));
}

function makePool(options: LoadOptions): Pool {
  checkLoopback(options.url);
  return new Pool(options.url, {
    connections: options.connections,
    pipelining: options.pipelining ?? 1,
    keepAliveTimeout: 60_000,
    keepAliveMaxTimeout: 600_000,
  });
}

async function sendOne(pool: Pool, options: LoadOptions, counters: Counters): Promise<void> {
  try {
    const res = await pool.request({
      path: options.path ?? '/',
      method: (options.method ?? 'GET') as 'GET',
      headers: { host: options.host, ...options.headers },
      body: options.body,
    });
    // Read the whole body: the response is not done until it is.
    for await (const _ of res.body) void _;
    const key = String(res.statusCode);
    counters.statusCounts[key] = (counters.statusCounts[key] ?? 0) + 1;
    if (res.statusCode !== (options.expectStatus ?? 200)) {
      counters.errors++;
      if (counters.errorSamples.length < 5) counters.errorSamples.push(`status ${res.statusCode}`);
    }
  } catch (err) {
    countError(counters, err);
  }
}

/**
 * Maximum throughput: every connection (× pipelining) sends its next request as soon as the previous one
 * is answered. With `--client undici` (or `pipelining` above 1), undici from this process, as before
 * session 8; otherwise load-process.ts's lean client in a process of its own.
 */
export function closedLoop(options: LoadOptions): Promise<LoadResult> {
  checkLoopback(options.url);
  if (closedLoopClient(options.pipelining) === 'undici') return closedLoopUndici(options);
  return inLoadProcess({ loop: 'closed', options });
}

/** Which client runs closed loops: `--client undici|lean` (default lean); pipelining needs undici. */
export function closedLoopClient(pipelining = 1): 'undici' | 'lean' {
  const { values } = parseArgs({ args: process.argv.slice(2), strict: false, options: { client: { type: 'string' } } });
  if (pipelining > 1) return 'undici';
  if (values.client === undefined || values.client === 'lean') return 'lean';
  if (values.client === 'undici') return 'undici';
  throw new Error(`--client is undici or lean, not ${String(values.client)}`);
}

async function closedLoopUndici(options: LoadOptions): Promise<LoadResult> {
  const pool = makePool(options);
  const slots = options.connections * (options.pipelining ?? 1);
  const latencies = new Samples();
  const counters = newCounters();
  const started = performance.now();
  const deadline = started + options.seconds * 1000;
  const cpuBefore = process.cpuUsage();
  await Promise.all(
    Array.from({ length: slots }, async () => {
      while (performance.now() < deadline) {
        const sent = performance.now();
        await sendOne(pool, options, counters);
        latencies.push(performance.now() - sent);
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  await pool.destroy();
  return closedLoopResult(latencies, counters, elapsed, cpu, options.sample);
}

/** A closed loop's result: its latencies and counts over `elapsed` seconds, and the client's CPU then. */
export function closedLoopResult(latencies: Samples, counters: Counters, elapsed: number, cpu: NodeJS.CpuUsage, sample?: number): LoadResult {
  return {
    requests: latencies.length,
    errors: counters.errors,
    seconds: elapsed,
    requestsPerSecond: latencies.length / elapsed,
    latencyMs: percentiles(latencies.values()),
    clientCpuPercent: ((cpu.user + cpu.system) / 1e3 / (elapsed * 1000)) * 100,
    statusCounts: counters.statusCounts,
    ...(counters.errorSamples.length ? { errorSamples: counters.errorSamples } : {}),
    ...(sample ? { latencySampleMs: quantileSample(latencies.values(), sample) } : {}),
  };
}

/**
 * A fixed request rate for S seconds (load-process.ts), in a process of its own: the harness's heap and
 * event loop stay out of the measurement.
 */
export function openLoop(options: OpenLoopOptions): Promise<LoadResult> {
  checkLoopback(options.url);
  return inLoadProcess({ loop: 'open', options });
}

/** Runs one job in a new load-process.ts process; resolves with its result. */
function inLoadProcess(job: LoadJob): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(new URL('./load-process.ts', import.meta.url)), { execArgv: ['--no-node-snapshot'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let result: LoadResult | null = null;
    child.once('message', (message) => {
      result = message as LoadResult;
    });
    child.once('error', reject);
    child.once('exit', (code) => (result ? resolve(result) : reject(new Error(`the load process exited with ${code} and no result`))));
    child.send(job);
  });
}
