/**
 * `flat` and `flatMap` keep the builtin for arrays up to HUGE elements (Hono calls both on every app and
 * router), but the arrays they descend into can be huge: `[new Array(5e7)].flat()` is one uninterruptible
 * builtin call. Both run as the builtin `flatMap` with a mapper that hands it, in place of a huge array,
 * the array of its present elements, collected in a loop the CPU limit can stop. Flattening one level
 * reads exactly those elements, with the same `has` and `get` in the same order, just before the
 * builtin would have, so the result is the same. `flat` to another depth runs the generic algorithm.
 */
import { ArrayIsArray, ReflectApply } from '../../primordials.ts';
import { genericMethod } from './generic.ts';
import { HUGE } from './huge.ts';

const builtinFlatMap = Array.prototype.flatMap;

/** What flattening `value` one level appends, with a huge array's elements read here. */
function flattenable(value: unknown): unknown {
  if (!ArrayIsArray(value)) return value;
  const array = value as unknown[];
  const length = array.length;
  if (!(length > HUGE)) return value;
  const present: unknown[] = [];
  for (let k = 0; k < length; k++) if (k in array) present[present.length] = array[k];
  return present;
}

export function flat(this: unknown, depth?: unknown): unknown {
  if ((depth === undefined || depth === 1) && ArrayIsArray(this) && (this as unknown[]).length <= HUGE) {
    return ReflectApply(builtinFlatMap, this, [flattenable]);
  }
  return genericMethod('flat')(this, arguments);
}

export function flatMap(this: unknown, mapper: unknown, thisArg?: unknown): unknown {
  if (typeof mapper === 'function' && ArrayIsArray(this) && (this as unknown[]).length <= HUGE) {
    const mapped = function (this: unknown, value: unknown, index: number, array: unknown) {
      return flattenable(ReflectApply(mapper, this, [value, index, array]));
    };
    return ReflectApply(builtinFlatMap, this, [mapped, thisArg]);
  }
  return genericMethod('flatMap')(this, arguments);
}
