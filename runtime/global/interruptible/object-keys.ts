/**
 * Object.keys, Object.values and Object.entries of arrays over HUGE elements, as loops the CPU limit can
 * stop. V8 lists every element in one call that checks for neither interrupts nor termination, and near
 * the memory limit it collects garbage again and again inside it: Object.entries of a 4e6-element array
 * ran 13 s at 128 MB, past the watchdog's bound, which ended the serving process. JavaScript cannot list
 * an array's named properties apart from its indices; the watchdog addon provides that one operation
 * (`namedKeys`, src/limits/watchdog.ts), and the indices are walked here. Without it (an addon built
 * against other V8 headers), and for everything but long arrays, the builtins run.
 *
 * The spec's EnumerableOwnProperties: the keys are taken first (integer indices ascending, then names
 * in creation order), then each one still enumerable is read, so getters that delete later properties
 * are honoured.
 */
import { ArrayIsArray, ObjectCtor, ObjectPrototypePropertyIsEnumerable, ReflectApply } from '../../primordials.ts';
import { HUGE } from './huge.ts';

type Kind = 'keys' | 'values' | 'entries';
type Builtin = (...args: unknown[]) => unknown;

let namedKeys: ((object: object) => string[]) | undefined;

/** Called once at boot with what the host's addon provides. */
export function useNamedKeys(fn: unknown): void {
  if (typeof fn === 'function') namedKeys = fn as (object: object) => string[];
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
      if (namedKeys !== undefined && ArrayIsArray(object) && (object as unknown[]).length > HUGE) return enumerableOwn(object as unknown[], kind);
      return ReflectApply(builtin, ObjectCtor, arguments);
    },
  }[kind]!;
}

export const keys = listing('keys');
export const values = listing('values');
export const entries = listing('entries');
