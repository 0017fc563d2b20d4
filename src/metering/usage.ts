/**
 * Usage per worker: cumulative counters since the process started (for /metrics) and a bounded ring of
 * recent invocations for windowed figures (invocations, errors by outcome, CPU and billed ms, p50/p99).
 */
import { OUTCOMES, type InvocationRecord, type Outcome } from '../types.ts';

/** Recent invocations kept per worker; windows are computed over at most this many. */
const RING_SIZE = 8192;
/**
 * A worker's ring starts this small and doubles as it fills: ~30 bytes per slot, so a full ring is
 * ~240 KiB, and preallocating it for each of 10,000 mostly idle workers would hold 2.3 GiB.
 */
const FIRST_RING_SIZE = 64;
/**
 * Slots all the rings may hold together (~60 MiB): 10,000 busy workers with full rings would hold
 * 2.3 GiB. Past it a ring stops growing, and windows over it reach back less far (`truncated`).
 */
const MAX_TOTAL_SLOTS = 2 * 1024 * 1024;

export interface UsageSummary {
  worker: string;
  windowSeconds: number;
  /** True when the ring did not reach back to the start of the window. */
  truncated: boolean;
  invocations: number;
  errors: number;
  outcomes: Record<Outcome, number>;
  cpuMsTotal: number;
  billedMsTotal: number;
  cpuMs: { p50: number; p99: number };
  wallMs: { p50: number; p99: number };
}

export interface UsageTotals {
  outcomes: Record<Outcome, number>;
  cpuUs: number;
  billedMs: number;
  wallMs: number;
}

class WorkerUsage {
  readonly totals: UsageTotals = { outcomes: zeroOutcomes(), cpuUs: 0, billedMs: 0, wallMs: 0 };
  capacity = FIRST_RING_SIZE;
  at = new Float64Array(FIRST_RING_SIZE);
  cpuUs = new Float64Array(FIRST_RING_SIZE);
  wallMs = new Float64Array(FIRST_RING_SIZE);
  billedMs = new Uint32Array(FIRST_RING_SIZE);
  outcome = new Uint8Array(FIRST_RING_SIZE);
  count = 0;
  /** Older invocations were overwritten: windows reaching past the ring are truncated. */
  overwritten = false;

  /** Doubles a full ring, its slots put back in arrival order (it may have wrapped while it could not grow). */
  #grow(): void {
    const capacity = this.capacity * 2;
    const oldest = this.count % this.capacity;
    const grown = <T extends Float64Array | Uint32Array | Uint8Array>(old: T, make: (n: number) => T): T => {
      const next = make(capacity);
      next.set(old.subarray(oldest));
      next.set(old.subarray(0, oldest), old.length - oldest);
      return next;
    };
    this.count = this.capacity;
    this.at = grown(this.at, (n) => new Float64Array(n));
    this.cpuUs = grown(this.cpuUs, (n) => new Float64Array(n));
    this.wallMs = grown(this.wallMs, (n) => new Float64Array(n));
    this.billedMs = grown(this.billedMs, (n) => new Uint32Array(n));
    this.outcome = grown(this.outcome, (n) => new Uint8Array(n));
    this.capacity = capacity;
  }

  /** `mayGrow`: whether the ring may double if it is full. */
  add(record: InvocationRecord, at: number, mayGrow: boolean): void {
    if (this.count >= this.capacity && this.capacity < RING_SIZE && mayGrow) this.#grow();
    if (this.count >= this.capacity) this.overwritten = true;
    const i = this.count++ % this.capacity;
    this.at[i] = at;
    this.cpuUs[i] = record.cpuUs;
    this.wallMs[i] = record.wallMs;
    this.billedMs[i] = record.billedMs;
    this.outcome[i] = OUTCOMES.indexOf(record.outcome);
    this.totals.outcomes[record.outcome]++;
    this.totals.cpuUs += record.cpuUs;
    this.totals.billedMs += record.billedMs;
    this.totals.wallMs += record.wallMs;
  }
}

export class UsageLog {
  readonly #workers = new Map<string, WorkerUsage>();
  readonly #now: () => number;
  readonly #maxSlots: number;
  /** Slots of all the rings together. */
  #slots = 0;

  constructor(now: () => number = Date.now, maxSlots = MAX_TOTAL_SLOTS) {
    this.#now = now;
    this.#maxSlots = maxSlots;
  }

  record(record: InvocationRecord): void {
    let usage = this.#workers.get(record.worker);
    if (!usage) {
      this.#workers.set(record.worker, (usage = new WorkerUsage()));
      this.#slots += usage.capacity;
    }
    const before = usage.capacity;
    usage.add(record, this.#now(), this.#slots + before <= this.#maxSlots);
    this.#slots += usage.capacity - before;
  }

  /** Slots of all the rings together (what their memory grows with). */
  get slots(): number {
    return this.#slots;
  }

  workers(): string[] {
    return [...this.#workers.keys()];
  }

  totals(worker: string): UsageTotals | null {
    return this.#workers.get(worker)?.totals ?? null;
  }

  forget(worker: string): void {
    this.#slots -= this.#workers.get(worker)?.capacity ?? 0;
    this.#workers.delete(worker);
  }

  summary(worker: string, windowSeconds: number): UsageSummary {
    const usage = this.#workers.get(worker);
    const since = this.#now() - windowSeconds * 1000;
    const outcomes = zeroOutcomes();
    const cpu: number[] = [];
    const wall: number[] = [];
    let billed = 0;
    let truncated = false;
    if (usage) {
      const kept = Math.min(usage.count, usage.capacity);
      for (let n = 0; n < kept; n++) {
        const i = (usage.count - 1 - n) % usage.capacity;
        if (usage.at[i]! < since) break;
        outcomes[OUTCOMES[usage.outcome[i]!]!]++;
        cpu.push(usage.cpuUs[i]! / 1000);
        wall.push(usage.wallMs[i]!);
        billed += usage.billedMs[i]!;
        if (n === kept - 1 && usage.overwritten) truncated = true;
      }
    }
    const invocations = cpu.length;
    return {
      worker,
      windowSeconds,
      truncated,
      invocations,
      errors: invocations - outcomes.ok,
      outcomes,
      cpuMsTotal: round3(cpu.reduce((a, b) => a + b, 0)),
      billedMsTotal: billed,
      cpuMs: { p50: quantile(cpu, 0.5), p99: quantile(cpu, 0.99) },
      wallMs: { p50: quantile(wall, 0.5), p99: quantile(wall, 0.99) },
    };
  }
}

function zeroOutcomes(): Record<Outcome, number> {
  return Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as Record<Outcome, number>;
}

/** Nearest-rank quantile; 0 for no samples. */
export function quantile(values: number[], q: number): number {
  if (values.length === 0) return 0;
  const sorted = Float64Array.from(values).sort();
  return round3(sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!);
}

function round3(n: number): number {
  return Math.round(n * 1000) / 1000;
}
