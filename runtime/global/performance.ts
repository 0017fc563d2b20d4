/**
 * performance.now() and performance.timeOrigin (https://w3c.github.io/hr-time/), coarsened to whole
 * milliseconds as Workers do: tenants get no high-resolution timer (Spectre-class reads across isolates
 * in one process are possible, and a fine clock is what they need).
 */
import { nameClass } from './define.ts';
import { DateNow, ObjectCreate } from '../primordials.ts';

const timeOrigin = DateNow();

export class Performance {
  constructor() {
    throw new TypeError('Illegal constructor');
  }

  get timeOrigin(): number {
    return timeOrigin;
  }

  now(): number {
    return DateNow() - timeOrigin;
  }
}
nameClass(Performance, 'Performance');

export const performance: Performance = ObjectCreate(Performance.prototype) as Performance;
