/**
 * Fires every worker's cron triggers when they are due, in the primary: one timer for the earliest due
 * trigger of all workers, whatever their number. A due trigger fires once, with the time it was due; if
 * the process was held up past later occurrences (a suspended machine), those are skipped, not fired in
 * a burst. Where the event runs is the caller's (`fire`): a serving process, like a request.
 */
import { parseCron, type CronSchedule } from './cron.ts';

export interface DueTrigger {
  worker: string;
  cron: string;
  /** When it was due, ms since the epoch. */
  scheduledTime: number;
}

/** The scheduler's time and timer; tests pass their own. */
export interface SchedulerClock {
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const systemClock: SchedulerClock = {
  now: Date.now,
  setTimeout: (callback, ms) => setTimeout(callback, ms).unref(),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** Timers are re-armed at least this often, so a wall clock that jumps is followed within a minute. */
const MAX_TIMER_MS = 60_000;

interface Trigger {
  schedule: CronSchedule;
  nextAt: number | null;
}

export class CronScheduler {
  readonly #fire: (trigger: DueTrigger) => void;
  readonly #clock: SchedulerClock;
  readonly #triggers = new Map<string, Trigger[]>();
  #timer: unknown = null;
  #closed = false;

  constructor(fire: (trigger: DueTrigger) => void, clock: SchedulerClock = systemClock) {
    this.#fire = fire;
    this.#clock = clock;
  }

  /**
   * Replaces `worker`'s triggers; none removes it. The admin API checked the expressions: one that does
   * not parse here (a store edited by hand) is skipped with a warning rather than stop the others.
   */
  set(worker: string, crons: readonly string[]): void {
    const current = this.#triggers.get(worker) ?? [];
    if (crons.length === current.length && crons.every((cron, i) => current[i]!.schedule.cron === cron)) return;
    const now = this.#clock.now();
    const triggers: Trigger[] = [];
    for (const cron of crons) {
      try {
        const schedule = parseCron(cron);
        triggers.push({ schedule, nextAt: schedule.next(now) });
      } catch (error) {
        process.emitWarning(`the cron trigger ${JSON.stringify(cron)} of worker ${worker} is skipped: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    if (triggers.length === 0) this.#triggers.delete(worker);
    else this.#triggers.set(worker, triggers);
    this.#arm();
  }

  /** The next time each of `worker`'s triggers fires (null: never again). */
  nextRuns(worker: string): { cron: string; nextAt: number | null }[] {
    return (this.#triggers.get(worker) ?? []).map(({ schedule, nextAt }) => ({ cron: schedule.cron, nextAt }));
  }

  close(): void {
    this.#closed = true;
    if (this.#timer !== null) this.#clock.clearTimeout(this.#timer);
    this.#timer = null;
  }

  #arm(): void {
    if (this.#timer !== null) this.#clock.clearTimeout(this.#timer);
    this.#timer = null;
    if (this.#closed) return;
    let earliest = Infinity;
    for (const triggers of this.#triggers.values()) {
      for (const { nextAt } of triggers) if (nextAt !== null && nextAt < earliest) earliest = nextAt;
    }
    if (earliest === Infinity) return;
    const wait = Math.min(MAX_TIMER_MS, Math.max(0, earliest - this.#clock.now()));
    this.#timer = this.#clock.setTimeout(() => this.#tick(), wait);
  }

  #tick(): void {
    this.#timer = null;
    const now = this.#clock.now();
    const due: DueTrigger[] = [];
    for (const [worker, triggers] of this.#triggers) {
      for (const trigger of triggers) {
        if (trigger.nextAt === null || trigger.nextAt > now) continue;
        due.push({ worker, cron: trigger.schedule.cron, scheduledTime: trigger.nextAt });
        trigger.nextAt = trigger.schedule.next(now);
      }
    }
    this.#arm();
    for (const trigger of due) this.#fire(trigger);
  }
}
