/**
 * Classifies an error thrown out of a synchronous, timed entry into an isolate. Tenant exceptions never
 * escape the runtime's dispatch, so what reaches the host is a limit or a fault.
 */
import type ivm from 'isolated-vm';
import type { Outcome } from '../types.ts';

export function sliceFailure(err: unknown, isolate: ivm.Isolate): Outcome {
  const message = err instanceof Error ? err.message : String(err);
  if (isolate.isDisposed) return /memory/i.test(message) ? 'exceededMemory' : 'internalError';
  if (/timed out/i.test(message)) return 'exceededCpu';
  return 'internalError';
}
