/**
 * `Array.prototype.fill`, in steps the host can interrupt.
 *
 * V8's fill is one C++ loop that neither checks for interrupts nor for termination. On an array with a
 * huge length (`new Array(5e7)` is a sparse, dictionary-backed array) it runs for seconds while the heap
 * grows past the isolate's memory limit, and neither the CPU limit nor the memory limit can stop it:
 * the serving process stalls, then crashes. Filling in chunks gives V8 a loop back-edge between them,
 * where both limits are enforced. Small fills, the common case, call the builtin once, unchanged.
 */
import { MathMin, MathTrunc, ObjectCtor, ReflectApply } from '../../primordials.ts';
import { relativeIndex } from './indices.ts';

/** Elements per builtin call: ~1 ms of work on a dictionary-backed array. */
const CHUNK = 1 << 14;

const builtinFill = Array.prototype.fill;

export function fill(this: unknown, value: unknown, start?: unknown, end?: unknown): unknown {
  if (this === null || this === undefined) return ReflectApply(builtinFill, this, [value, start, end]);
  const target = ObjectCtor(this) as ArrayLike<unknown>;
  // Spec order (ECMA-262 Array.prototype.fill): length, then start, then end, each converted once.
  const rawLength = +(target.length as unknown as number);
  const length = rawLength > 0 ? MathMin(MathTrunc(rawLength), 2 ** 53 - 1) : 0;
  const from = relativeIndex(start, 0, length);
  const to = relativeIndex(end, length, length);
  for (let at = from; at < to; at += CHUNK) ReflectApply(builtinFill, target, [value, at, MathMin(at + CHUNK, to)]);
  return target;
}
