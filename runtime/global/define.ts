/**
 * Installing globals the way Web IDL does: interface objects and functions are writable,
 * configurable and not enumerable properties of the global object
 * (https://webidl.spec.whatwg.org/#es-interfaces). Tenant code may replace them; the runtime
 * never reads them back (it keeps its own references, see primordials.ts).
 *
 * The bundle is minified without esbuild's keepNames (a `name` fix-up for every function costs
 * ~0.25 ms of each isolate's start), so the names tenant code can see are set here instead.
 */
import {
  CONFIGURABLE,
  defineValue,
  globalThisRef,
  ObjectDefineProperty,
  ObjectGetPrototypeOf,
  SymbolToStringTag,
  WeakMapCtor,
  WeakMapPrototypeHas,
  WeakMapPrototypeSet,
  WRITABLE,
} from '../primordials.ts';

/** Prototypes of the runtime's classes: their instances are platform objects (not cloneable). */
const platformPrototypes = new WeakMapCtor<object, true>();

export function defineGlobal(name: string, value: unknown): void {
  if (typeof value === 'function') setName(value, name);
  defineValue(globalThisRef, name, value, WRITABLE | CONFIGURABLE);
}

/**
 * A global whose value is made on first read: until then an accessor, which the first read (or a write)
 * replaces with an ordinary writable data property. For the APIs an isolate should not pay for unless
 * it uses them (URL, URLPattern, streams, events, Blob, FormData).
 */
export function defineLazyGlobal(name: string, load: () => unknown): void {
  ObjectDefineProperty(globalThisRef, name, {
    __proto__: null,
    configurable: true,
    enumerable: false,
    get() {
      const value = load();
      defineValue(globalThisRef, name, value, WRITABLE | CONFIGURABLE);
      return value;
    },
    set(value: unknown) {
      defineValue(globalThisRef, name, value, WRITABLE | CONFIGURABLE);
    },
  });
}

export function setName(fn: Function, name: string): void {
  if (fn.name !== name) defineValue(fn, 'name', name, CONFIGURABLE);
}

/**
 * A class as platform objects have it: `name` is the interface name and
 * `Object.prototype.toString.call(instance)` gives `[object Tag]`.
 */
export function nameClass(ctor: Function & { prototype: object }, name: string, tag: string = name): void {
  setName(ctor, name);
  defineValue(ctor.prototype, SymbolToStringTag, tag, CONFIGURABLE);
  WeakMapPrototypeSet(platformPrototypes, ctor.prototype, true);
}

/** Whether `value` is an instance of one of the runtime's classes (or of a subclass of one). */
export function isPlatformObject(value: object): boolean {
  let proto = ObjectGetPrototypeOf(value);
  while (proto !== null) {
    if (WeakMapPrototypeHas(platformPrototypes, proto)) return true;
    proto = ObjectGetPrototypeOf(proto);
  }
  return false;
}
