/**
 * The load generator, run in a process of its own (load.ts's `openLoop` and `closedLoop` start it) over
 * keep-alive connections of http1-client.ts:
 * - closed loop: every connection sends its next request as soon as the previous one is answered;
 * - open loop: requests due at start + i / rate, sent by a 1 ms timer (a busy loop would take a core
 *   from the servers). Latency counts from each request's due time, so a stall on either side shows up
 *   instead of lowering the rate (no coordinated omission).
 *
 * Its own process, so the harness's heap (results, bundles, earlier runs' garbage) is not collected in
 * the middle of a measurement; and a warm-up (1 s of the same load) first, so the generator's own code
 * is optimised before anything is counted.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { encodeRequest, Http1Pool, type Outcome } from './http1-client.ts';
import { closedLoopResult, percentiles, quantileSample, Samples, type LoadOptions, type LoadResult, type OpenLoopOptions } from './load.ts';

/** Seconds of load before the measured ones (not counted): the generator's own code gets optimised. */
const WARMUP_SECONDS = 1;
/** How long requests still unanswered after the last send may take before they count as errors. */
const DRAIN_MS = 5000;

export async function runOpenLoop(options: OpenLoopOptions): Promise<LoadResult> {
  const pool = new Http1Pool(options.url, options.connections);
  const request = encodeRequest({ method: options.method, path: options.path, host: options.host, headers: options.headers, body: options.body });
  try {
    await schedule(pool, request, options, WARMUP_SECONDS, false);
    return await schedule(pool, request, options, options.seconds, true);
  } finally {
    pool.close();
  }
}

export async function runClosedLoop(options: LoadOptions): Promise<LoadResult> {
  const pool = new Http1Pool(options.url, options.connections);
  const request = encodeRequest({ method: options.method, path: options.path, host: options.host, headers: options.headers, body: options.body });
  try {
    await closed(pool, request, options, WARMUP_SECONDS);
    return await closed(pool, request, options, options.seconds);
  } finally {
    pool.close();
  }
}

async function closed(pool: Http1Pool, request: Buffer, options: LoadOptions, seconds: number): Promise<LoadResult> {
  const latencies = new Samples();
  const counters = newCounters(options.expectStatus ?? 200);
  const started = performance.now();
  const deadline = started + seconds * 1000;
  const cpuBefore = process.cpuUsage();
  const send = () => new Promise<Outcome>((resolve) => pool.request(request, resolve));
  await Promise.all(
    Array.from({ length: options.connections }, async () => {
      while (performance.now() < deadline) {
        const sent = performance.now();
        counters.count(await send());
        latencies.push(performance.now() - sent);
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  return { ...closedLoopResult(latencies, counters, elapsed, process.cpuUsage(cpuBefore), options.sample), clientCpuSeconds: totalCpuSeconds() };
}

/** Status codes seen, and the requests that failed or answered another status than `expected`. */
function newCounters(expected: number) {
  const counters = {
    errors: 0,
    statusCounts: {} as Record<string, number>,
    errorSamples: [] as string[],
    count(outcome: Outcome): void {
      const key = outcome instanceof Error ? 'error' : String(outcome);
      counters.statusCounts[key] = (counters.statusCounts[key] ?? 0) + 1;
      if (outcome instanceof Error || outcome !== expected) {
        counters.errors++;
        if (counters.errorSamples.length < 5) counters.errorSamples.push(outcome instanceof Error ? outcome.message : `status ${outcome}`);
      }
    },
  };
  return counters;
}

async function schedule(pool: Http1Pool, request: Buffer, options: OpenLoopOptions, seconds: number, measured: boolean): Promise<LoadResult> {
  const latencies = new Samples();
  const service = new Samples();
  const lag = new Samples();
  const counters = newCounters(options.expectStatus ?? 200);
  const total = Math.max(1, Math.round(options.rate * seconds));
  const interval = 1000 / options.rate;
  let next = 0;
  let finished = 0;
  let allAnswered: (() => void) | null = null;
  const loopDelay = monitorEventLoopDelay({ resolution: 2 });
  loopDelay.enable();
  const started = performance.now();
  const cpuBefore = process.cpuUsage();

  const fire = (due: number) => {
    const sent = performance.now();
    lag.push(sent - due);
    pool.request(request, (outcome) => {
      const done = performance.now();
      latencies.push(done - due);
      service.push(done - sent);
      counters.count(outcome);
      if (++finished === total) allAnswered?.();
    });
  };

  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      while (next < total && started + next * interval <= now) fire(started + next++ * interval);
      if (next >= total) return resolve();
      setTimeout(tick, Math.max(0, Math.min(started + next * interval - performance.now(), 1)));
    };
    tick();
  });
  const sendingEnded = performance.now();
  loopDelay.disable();
  if (finished < total) {
    await new Promise<void>((resolve) => {
      allAnswered = resolve;
      setTimeout(resolve, DRAIN_MS).unref();
    });
  }
  const unfinished = total - finished;
  const elapsed = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  if (!measured) return { requests: total, errors: counters.errors, seconds: elapsed, requestsPerSecond: 0, latencyMs: percentiles([]), clientCpuPercent: 0, statusCounts: counters.statusCounts };
  // Requests that never finished have an unknown latency, at least the time since they were due.
  for (let i = 0; i < unfinished; i++) latencies.push(performance.now() - sendingEnded);
  return {
    requests: total,
    errors: counters.errors + unfinished,
    seconds: elapsed,
    requestsPerSecond: finished / ((sendingEnded - started) / 1000),
    latencyMs: percentiles(latencies.values()),
    clientCpuPercent: ((cpu.user + cpu.system) / 1e3 / (elapsed * 1000)) * 100,
    clientCpuSeconds: totalCpuSeconds(),
    statusCounts: counters.statusCounts,
    targetRate: options.rate,
    serviceLatencyMs: percentiles(service.values()),
    sendLagMs: percentiles(lag.values()),
    clientLoopDelayMs: { p99: loopDelay.percentile(99) / 1e6, max: loopDelay.max / 1e6 },
    ...(unfinished ? { unfinished } : {}),
    ...(counters.errorSamples.length ? { errorSamples: counters.errorSamples } : {}),
    ...(options.sample ? { latencySampleMs: quantileSample(latencies.values(), options.sample) } : {}),
  };
}

/** All this process's CPU so far (start-up and warm-up too): the harness counts it as the client's. */
function totalCpuSeconds(): number {
  const cpu = process.cpuUsage();
  return (cpu.user + cpu.system) / 1e6;
}

/** What load.ts sends the process: one run. */
export type LoadJob = { loop: 'open'; options: OpenLoopOptions } | { loop: 'closed'; options: LoadOptions };

// Run by load.ts: the job comes in the first IPC message, the result goes back in one.
if (import.meta.main) {
  process.once('message', (job: LoadJob) => {
    (job.loop === 'open' ? runOpenLoop(job.options) : runClosedLoop(job.options)).then(
      (result) => process.send!(result, () => process.exit(0)),
      (err: unknown) => {
        console.error(err);
        process.exit(1);
      },
    );
  });
}
