/**
 * Parts of the runtime that are built apart (src/isolates/runtime-bundle.ts, CHUNKS) so that their
 * source is not in every isolate: asked from the host by name on first use. The host runs the chunk's
 * script in this context, from its code cache, and hands back its exports with dispatch('chunk') before
 * the ask returns (src/isolates/runtime-chunks.ts). Evaluated once, kept.
 */
import { hostRuntimeChunk } from './bridge.ts';
import {
  ObjectCreate,
  ObjectPrototype,
  ObjectSetPrototypeOf,
  ReflectDefineProperty,
  ReflectDeleteProperty,
  ReflectGetOwnPropertyDescriptor,
  TypeErrorCtor,
} from './primordials.ts';

const loaded: Record<string, unknown> = ObjectCreate(null);

export function loadChunk<T>(name: string): T {
  if (!(name in loaded)) {
    const setAside = setAsideDescriptorFields();
    try {
      hostRuntimeChunk(name);
    } finally {
      putBack(setAside);
    }
  }
  if (!(name in loaded)) throw new TypeErrorCtor(`runtime chunk ${name} did not load`);
  return loaded[name] as T;
}

const made: Record<string, unknown> = ObjectCreate(null);

/**
 * A chunk whose exports are `{ make(given) }` (a module chunk, src/isolates/runtime-module-chunks.ts, or
 * one made from what the runtime hands in): made once, with `given()`, and kept.
 */
export function makeChunk<T>(name: string, given: () => object): T {
  if (!(name in made)) made[name] = loadChunk<{ make(given: object): T }>(name).make(given());
  return made[name] as T;
}

/** dispatch('chunk', name, exports): the host ran chunk `name` here. */
export function chunkLoaded(name: string, exports: unknown): void {
  if (!(name in loaded)) loaded[name] = exports;
}

/**
 * The chunks are libraries (web-streams-polyfill, urlpattern-polyfill) that define properties with
 * descriptor literals, which inherit from Object.prototype: with a tenant's `Object.prototype.get`
 * (or `value`, …) there, evaluating them would throw. While a chunk runs, those properties are taken
 * off Object.prototype (the configurable ones; the chunk runs no tenant code) and put back after.
 */
const DESCRIPTOR_FIELDS = ['get', 'set', 'value', 'writable', 'enumerable', 'configurable'];

function setAsideDescriptorFields(): PropertyDescriptor[] {
  const setAside: PropertyDescriptor[] = [];
  for (let i = 0; i < DESCRIPTOR_FIELDS.length; i++) {
    const field = DESCRIPTOR_FIELDS[i]!;
    const descriptor = ReflectGetOwnPropertyDescriptor(ObjectPrototype, field);
    if (descriptor === undefined || !ReflectDeleteProperty(ObjectPrototype, field)) continue;
    // Put back in turn, each descriptor must not inherit the fields put back before it.
    setAside[i] = ObjectSetPrototypeOf(descriptor, null);
  }
  return setAside;
}

function putBack(setAside: PropertyDescriptor[]): void {
  for (let i = 0; i < DESCRIPTOR_FIELDS.length; i++) {
    const descriptor = setAside[i];
    if (descriptor !== undefined) ReflectDefineProperty(ObjectPrototype, DESCRIPTOR_FIELDS[i]!, descriptor);
  }
}
