/**
 * Parts of the runtime that are built apart (src/isolates/runtime-bundle.ts, CHUNKS) so that their
 * source is not in every isolate: asked from the host by name on first use, evaluated once, kept.
 */
import { hostRuntimeChunk } from './bridge.ts';
import { FunctionCtor, ObjectCreate } from './primordials.ts';

const loaded: Record<string, unknown> = ObjectCreate(null);

export function loadChunk<T>(name: string): T {
  if (!(name in loaded)) loaded[name] = new FunctionCtor(hostRuntimeChunk(name))();
  return loaded[name] as T;
}
