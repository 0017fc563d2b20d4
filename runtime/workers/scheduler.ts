/**
 * `scheduler.wait(ms)` (Workers' extension, https://developers.cloudflare.com/workers/runtime-apis/scheduler/):
 * a promise that resolves after `ms`, on the same host timers as setTimeout; an aborted `signal`
 * rejects it with the signal's reason.
 */
import { nameClass } from '../global/define.ts';
import { PromiseCtor } from '../primordials.ts';
import { clearTimeout, setTimeout } from '../global/timers.ts';

/** An AbortSignal, as far as wait() uses one. */
interface Signal {
  readonly aborted: boolean;
  readonly reason: unknown;
  addEventListener(type: 'abort', listener: () => void, options?: { once: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

interface WaitOptions {
  signal?: Signal;
}

export class Scheduler {
  wait(delay: unknown, options?: WaitOptions): Promise<void> {
    const signal = options?.signal;
    return new PromiseCtor<void>((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const onAbort = () => {
        clearTimeout(id);
        reject(signal!.reason);
      };
      const id = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, delay);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}
nameClass(Scheduler, 'Scheduler');

export const scheduler = new Scheduler();
