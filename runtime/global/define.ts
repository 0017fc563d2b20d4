/**
 * Installing globals the way Web IDL does: interface objects and functions are writable,
 * configurable and not enumerable properties of the global object
 * (https://webidl.spec.whatwg.org/#es-interfaces). Tenant code may replace them; the runtime
 * never reads them back (it keeps its own references, see primordials.ts).
 */
import { ObjectDefineProperty, SymbolToStringTag, globalThisRef } from '../primordials.ts';

export function defineGlobal(name: string, value: unknown): void {
  ObjectDefineProperty(globalThisRef, name, { value, writable: true, configurable: true, enumerable: false });
}

/** `Object.prototype.toString.call(x)` gives `[object Name]`, as for platform objects. */
export function setToStringTag(ctor: { prototype: object }, name: string): void {
  ObjectDefineProperty(ctor.prototype, SymbolToStringTag, { value: name, configurable: true });
}
