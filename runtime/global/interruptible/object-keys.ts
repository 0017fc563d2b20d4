/**
 * Object.keys, Object.values, Object.entries and Object.assign over arrays of more than HUGE elements,
 * as loops the CPU limit can stop. V8 lists every element in one call that checks for neither
 * interrupts nor termination, and near the memory limit it collects garbage again and again inside it:
 * Object.entries of a 4e6-element array ran 13 s at 128 MB, past the watchdog's bound, which ended the
 * serving process. JavaScript cannot list an array's named properties apart from its indices; the
 * watchdog addon provides that one operation (`namedKeys`, src/limits/watchdog.ts), and the indices are
 * walked here. Without it (an addon built against other V8 headers), and for everything but long
 * arrays, the builtins run.
 *
 * The spec's EnumerableOwnProperties: the keys are taken first (integer indices ascending, then names
 * in creation order), then each one still enumerable is read, so getters that delete later properties
 * are honoured.
 */
import { ArrayIsArray, ObjectCtor, ObjectGetOwnPropertySymbols, ObjectPrototypePropertyIsEnumerable, ReflectApply, TypeErrorCtor } from '../../primordials.ts';
import { HUGE } from './huge.ts';
import type { Builtin } from './builtin.ts';

type Kind = 'keys' | 'values' | 'entries';

let namedKeys: ((object: object) => string[]) | undefined;

/** Called once at boot with what the host's addon provides. */
export function useNamedKeys(fn: unknown): void {
  if (typeof fn === 'function') namedKeys = fn as (object: object) => string[];
}

function isLongArray(value: unknown): value is unknown[] {
  return namedKeys !== undefined && ArrayIsArray(value) && (value as unknown[]).length > HUGE;
}

function enumerableOwn(array: unknown[], kind: Kind): unknown[] {
  const named = namedKeys!(array);
  const length = array.length;
  const out: unknown[] = [];
  for (let k = 0; k < length; k++) {
    if (!ObjectPrototypePropertyIsEnumerable(array, k)) continue;
    const key = `${k}`;
    out[out.length] = kind === 'keys' ? key : kind === 'values' ? array[k] : [key, array[k]];
  }
  for (let i = 0; i < named.length; i++) {
    const key = named[i]!;
    if (kind === 'keys') out[out.length] = key;
    else if (ObjectPrototypePropertyIsEnumerable(array, key)) {
      const value = (array as unknown as Record<string, unknown>)[key];
      out[out.length] = kind === 'values' ? value : [key, value];
    }
  }
  return out;
}

function listing(kind: Kind): Function {
  const builtin = (ObjectCtor as unknown as Record<Kind, Builtin>)[kind];
  return {
    [kind](object: unknown) {
      if (isLongArray(object)) return enumerableOwn(object, kind);
      return ReflectApply(builtin, ObjectCtor, arguments);
    },
  }[kind]!;
}

const builtinAssign = ObjectCtor.assign as unknown as Builtin;

/** Object.assign's steps for one source that is a long array: indices, then names, then symbols. */
function assignFromLongArray(to: Record<PropertyKey, unknown>, from: unknown[]): void {
  const source = from as unknown as Record<PropertyKey, unknown>;
  const named = namedKeys!(from);
  const symbols = ObjectGetOwnPropertySymbols(from);
  const length = from.length;
  for (let k = 0; k < length; k++) if (ObjectPrototypePropertyIsEnumerable(from, k)) to[k] = source[k];
  for (let i = 0; i < named.length; i++) if (ObjectPrototypePropertyIsEnumerable(from, named[i]!)) to[named[i]!] = source[named[i]!];
  for (let i = 0; i < symbols.length; i++) if (ObjectPrototypePropertyIsEnumerable(from, symbols[i]!)) to[symbols[i]!] = source[symbols[i]!];
}

export function assign(target: unknown, ..._sources: unknown[]): unknown {
  let long = false;
  for (let i = 1; !long && i < arguments.length; i++) long = isLongArray(arguments[i]);
  if (!long) return ReflectApply(builtinAssign, ObjectCtor, arguments);
  if (target === null || target === undefined) throw new TypeErrorCtor('Cannot convert undefined or null to object');
  const to = ObjectCtor(target) as Record<PropertyKey, unknown>;
  // Source by source, in order: the builtin for the others (the same steps for one source).
  for (let i = 1; i < arguments.length; i++) {
    const source = arguments[i];
    if (isLongArray(source)) assignFromLongArray(to, source);
    else ReflectApply(builtinAssign, ObjectCtor, [to, source]);
  }
  return to;
}

export const keys = listing('keys');
export const values = listing('values');
export const entries = listing('entries');
