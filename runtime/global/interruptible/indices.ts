/** The spec's index arguments, converted as the builtins convert them (ECMA-262 ToIntegerOrInfinity). */
import { MathMax, MathMin, MathTrunc } from '../../primordials.ts';

/** ToIntegerOrInfinity: NaN and -0 are 0, infinities stay; a Symbol or a BigInt throws a TypeError, as ToNumber does. */
export function toIntegerOrInfinity(value: unknown): number {
  return MathTrunc(+(value as number)) || 0;
}

/** A start or end argument relative to `length` (negative: from the end), clamped to 0..length; `fallback` when undefined. */
export function relativeIndex(value: unknown, fallback: number, length: number): number {
  const n = value === undefined ? fallback : toIntegerOrInfinity(value);
  return n < 0 ? MathMax(length + n, 0) : MathMin(n, length);
}
