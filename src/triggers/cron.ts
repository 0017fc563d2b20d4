/**
 * Cron expressions as Cloudflare's cron triggers take them: five fields (minute, hour, day of month,
 * month, day of week), UTC, with `* , - /`, `L` and `W` in the day of month, `L` and `#` in the day of
 * week, and three-letter names of months and days. Days of the week are 1-7 with 1 for Sunday, as in
 * Quartz (`0 17 * * 1` and `0 17 * * sun` are both 5 PM on Sunday; `6L` is the last Friday).
 * Parsing and finding the next time are croner's: it implements that syntax, with no dependencies.
 */
import { Cron } from 'croner';
import { IsolaneError } from '../errors.ts';

/** How many cron triggers a worker may have. */
export const MAX_SCHEDULES = 10;
export const MAX_CRON_CHARS = 100;

export interface CronSchedule {
  readonly cron: string;
  /** The first time after `afterMs` (ms since the epoch) the expression matches, or null if it never does. */
  next(afterMs: number): number | null;
}

/** Parses one expression; ISO_ERR_SCHEDULE_INVALID names it and what is wrong. */
export function parseCron(cron: unknown): CronSchedule {
  if (typeof cron !== 'string' || cron.length === 0 || cron.length > MAX_CRON_CHARS) {
    throw new IsolaneError('ISO_ERR_SCHEDULE_INVALID', `a cron expression must be a string of 1 to ${MAX_CRON_CHARS} characters, not ${JSON.stringify(cron)}`);
  }
  // croner reads a day of the week of 8 as Sunday again; Cloudflare's days are 1-7.
  const dayOfWeek = cron.trim().split(/\s+/)[4] ?? '';
  for (const [, day] of dayOfWeek.matchAll(/(?:^|[,-])(\d+)/g)) {
    if (Number(day) > 7) throw new IsolaneError('ISO_ERR_SCHEDULE_INVALID', `invalid cron expression ${JSON.stringify(cron)}: days of the week are 1-7 (1 is Sunday) or SUN-SAT, not ${day}`);
  }
  let pattern: Cron;
  try {
    pattern = new Cron(cron, { timezone: 'UTC', paused: true, mode: '5-part', alternativeWeekdays: true });
  } catch (error) {
    const reason = error instanceof Error ? error.message.replace(/^CronPattern: /, '') : String(error);
    throw new IsolaneError('ISO_ERR_SCHEDULE_INVALID', `invalid cron expression ${JSON.stringify(cron)}: ${reason}`);
  }
  const schedule: CronSchedule = {
    cron,
    next: (afterMs) => pattern.nextRun(new Date(afterMs))?.getTime() ?? null,
  };
  if (schedule.next(Date.now()) === null) {
    throw new IsolaneError('ISO_ERR_SCHEDULE_INVALID', `the cron expression ${JSON.stringify(cron)} never fires`);
  }
  return schedule;
}

/** A worker's whole list of triggers, as `PUT /v1/workers/:name/schedules` takes it: `[{ "cron": "…" }, …]`. */
export function parseScheduleList(body: unknown): CronSchedule[] {
  if (!Array.isArray(body)) {
    throw new IsolaneError('ISO_ERR_SCHEDULE_INVALID', 'the body must be a JSON array of {"cron": "<expression>"} objects');
  }
  if (body.length > MAX_SCHEDULES) throw new IsolaneError('ISO_ERR_SCHEDULE_INVALID', `a worker has at most ${MAX_SCHEDULES} cron triggers, not ${body.length}`);
  const schedules = body.map((entry: unknown) => {
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry) || Object.keys(entry).some((key) => key !== 'cron')) {
      throw new IsolaneError('ISO_ERR_SCHEDULE_INVALID', `each cron trigger is an object {"cron": "<expression>"}, not ${JSON.stringify(entry)}`);
    }
    return parseCron((entry as { cron?: unknown }).cron);
  });
  const seen = new Set<string>();
  for (const { cron } of schedules) {
    if (seen.has(cron)) throw new IsolaneError('ISO_ERR_SCHEDULE_INVALID', `the cron expression ${JSON.stringify(cron)} is listed twice`);
    seen.add(cron);
  }
  return schedules;
}
