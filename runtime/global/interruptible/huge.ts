/**
 * Lengths above which the runtime does not hand a whole array or string to one builtin call. V8's
 * builtins loop over every index (holes included) without checking for interrupts or termination; on a
 * sparse array that costs 20-100 ns an index, so 2^18 indices stay under ~25 ms, while
 * `new Array(5e7).sort()` held its thread 5.4 s.
 */
export const HUGE = 1 << 18;
