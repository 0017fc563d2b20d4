/**
 * Classifies an error thrown out of a synchronous, timed entry into an isolate: a limit that cut the
 * slice short (the watchdog's `SliceStopped`, or isolated-vm disposing the isolate at its memory limit),
 * or `uncaught`. The runtime catches every tenant exception, but isolated-vm rethrows a
 * promise rejection left unhandled during the call (a stray `Promise.reject()`); that is the tenant's
 * log line, not the end of its invocation.
 */
import type ivm from 'isolated-vm';
import type { Outcome } from '../types.ts';
import { SliceStopped } from './watchdog.ts';

export type SliceFailure = Outcome | 'uncaught';

export function sliceFailure(err: unknown, isolate: ivm.Isolate): SliceFailure {
  if (err instanceof SliceStopped) return err.limit === 'cpu' ? 'exceededCpu' : 'exceededMemory';
  const message = err instanceof Error ? err.message : String(err);
  if (isolate.isDisposed) return /memory/i.test(message) ? 'exceededMemory' : 'internalError';
  return 'uncaught';
}
