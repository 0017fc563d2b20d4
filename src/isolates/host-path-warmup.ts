/**
 * An invocation the executor makes of its own when it starts: a hello-world worker served once through
 * the whole path (spare taken, module built, request batched, sliced, answered), its messages dropped
 * and its version unloaded when it ends. The host's side of that path is JavaScript that V8 compiles on
 * first call, inside the first invocation's slice: the first tenant each executor thread served was
 * charged ~0.55 ms more than the next ones (`.scratch/subtle-first.ts PLAIN=1`: 758 / 813 µs for the
 * first isolate's first invocation, ~245 for later isolates'; 203 / 208 with this warm-up).
 * runtime-warmup.ts does the same for the code inside isolates.
 */
import { DEFAULT_LIMITS, type Version } from '../types.ts';
import type { FromExecutor, InvokeMessage } from './protocol.ts';

/** Invocation ids from the serving process are positive. */
export const WARMUP_INVOCATION_ID = -1;

/** Not a version id a deploy can make (those are hex). */
const WARMUP_VERSION_ID = 'isolane-host-path-warmup';

export const WARMUP_VERSION: Version = {
  id: WARMUP_VERSION_ID,
  worker: WARMUP_VERSION_ID,
  createdAt: new Date(0).toISOString(),
  syntax: 'module',
  main: 'warmup.js',
  modules: [{ name: 'warmup.js', type: 'esm', content: `export default { fetch(request) { return new Response(new URL(request.url).pathname) } }` }],
  bindings: [],
  compatibilityDate: null,
  limits: { ...DEFAULT_LIMITS },
};

export function warmupInvocation(): InvokeMessage {
  return {
    t: 'invoke',
    id: WARMUP_INVOCATION_ID,
    requestId: WARMUP_VERSION_ID,
    worker: WARMUP_VERSION_ID,
    versionId: WARMUP_VERSION_ID,
    deadline: Date.now() + 10_000,
    request: { method: 'GET', url: 'http://warmup.localhost/', headers: 'host\nwarmup.localhost', body: null },
  };
}

/** Whether `message` belongs to the warm-up invocation (and so goes nowhere). */
export function isWarmupMessage(message: FromExecutor): boolean {
  return 'id' in message && message.id === WARMUP_INVOCATION_ID;
}
