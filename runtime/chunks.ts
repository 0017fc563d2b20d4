/**
 * Parts of the runtime that are built apart (src/isolates/runtime-bundle.ts, CHUNKS) so that their
 * source is not in every isolate: asked from the host by name on first use. The host runs the chunk's
 * script in this context, from its code cache, and hands back its exports with dispatch('chunk') before
 * the ask returns (src/isolates/runtime-chunks.ts). Evaluated once, kept.
 */
import { hostRuntimeChunk } from './bridge.ts';
import { ObjectCreate, TypeErrorCtor } from './primordials.ts';

const loaded: Record<string, unknown> = ObjectCreate(null);

export function loadChunk<T>(name: string): T {
  if (!(name in loaded)) hostRuntimeChunk(name);
  if (!(name in loaded)) throw new TypeErrorCtor(`runtime chunk ${name} did not load`);
  return loaded[name] as T;
}

/** dispatch('chunk', name, exports): the host ran chunk `name` here. */
export function chunkLoaded(name: string, exports: unknown): void {
  if (!(name in loaded)) loaded[name] = exports;
}
