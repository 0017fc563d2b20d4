/**
 * The object forms of the Web IDL union `sequence<sequence<T>> or record<T, T>` that Headers and
 * URLSearchParams take as init (https://webidl.spec.whatwg.org/#es-union): an object with @@iterator is
 * a sequence of name/value pairs, any other object a record, read as its own enumerable properties in
 * property order. `add` gets each name and value as given; the caller converts them.
 */
import { ReflectGetOwnPropertyDescriptor, ReflectOwnKeys, SymbolIterator, TypeErrorCtor } from '../primordials.ts';

/** `context` starts the errors ("Failed to construct 'Headers'"); `pair` names one item ("header"). */
export function forEachInitPair(init: object, context: string, pair: string, add: (name: unknown, value: unknown) => void): void {
  const method = (init as { [SymbolIterator]?: unknown })[SymbolIterator];
  if (method !== undefined && method !== null) {
    if (typeof method !== 'function') throw new TypeErrorCtor(`${context}: @@iterator is not a function.`);
    for (const item of init as Iterable<unknown>) {
      if ((typeof item !== 'object' && typeof item !== 'function') || item === null) {
        throw new TypeErrorCtor(`${context}: The provided value cannot be converted to a sequence.`);
      }
      const parts: unknown[] = [];
      for (const part of item as Iterable<unknown>) parts[parts.length] = part;
      if (parts.length !== 2) throw new TypeErrorCtor(`${context}: Invalid value (a ${pair} needs a name and a value, got ${parts.length} items).`);
      add(parts[0], parts[1]);
    }
    return;
  }
  const keys = ReflectOwnKeys(init);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    const descriptor = ReflectGetOwnPropertyDescriptor(init, key);
    if (descriptor === undefined || !descriptor.enumerable) continue;
    add(key, (init as Record<PropertyKey, unknown>)[key]);
  }
}
