/**
 * `concat` keeps the builtin unless it is asked to spread an object that is not an array and claims more
 * than HUGE elements (`Symbol.isConcatSpreadable`): the builtin walks such an array-like index by index
 * in one call (2.6 s for `{ length: 5e7 }`). Arrays are fine at any length: the builtin copies a sparse
 * array by its elements. Reading the flag here is one more read of it than the builtin makes.
 */
import { ArrayIsArray, ReflectApply, SymbolIsConcatSpreadable } from '../../primordials.ts';
import { genericMethod } from './generic.ts';
import { HUGE } from './huge.ts';

const builtinConcat = Array.prototype.concat;

function hugeArrayLike(value: unknown): boolean {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function') || ArrayIsArray(value)) return false;
  const item = value as Record<PropertyKey, unknown>;
  return !!item[SymbolIsConcatSpreadable] && !(+(item.length as number) <= HUGE);
}

export function concat(this: unknown): unknown {
  let generic = hugeArrayLike(this);
  for (let i = 0; !generic && i < arguments.length; i++) generic = hugeArrayLike(arguments[i]);
  return generic ? genericMethod('concat')(this, arguments) : ReflectApply(builtinConcat, this, arguments);
}
