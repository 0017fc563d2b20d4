/** For tests that drive an Executor directly: the versions they load, its messages waited on. */
import type { Executor } from '../../src/isolates/executor.ts';
import type { EndMessage, FromExecutor } from '../../src/isolates/protocol.ts';
import { DEFAULT_LIMITS, type Version } from '../../src/types.ts';

/** A one-module version whose id and worker name are both `id`, with CPU limit `cpuMs`. */
export function moduleVersion(id: string, content: string, cpuMs: number): Version {
  return {
    id,
    worker: id,
    createdAt: new Date(0).toISOString(),
    syntax: 'module',
    main: 'main.js',
    modules: [{ name: 'main.js', type: 'esm', content }],
    bindings: [],
    compatibilityDate: null,
    limits: { ...DEFAULT_LIMITS, cpuMs },
  };
}

/**
 * Loads one-module versions into `executor` (CPU limit `cpuMs` unless given) and invokes them with a GET
 * of `path` on the host `<id>.test`; `invoke` returns the invocation's id.
 */
export function executorDriver(executor: Executor, cpuMs: number, path: string) {
  let nextId = 0;
  return {
    load(id: string, content: string, limitMs = cpuMs): void {
      executor.handle({ t: 'load', version: moduleVersion(id, content, limitMs) });
    },
    invoke(versionId: string): number {
      const id = ++nextId;
      executor.handle({ t: 'invoke', id, requestId: `r${id}`, worker: versionId, versionId, deadline: Date.now() + 10_000, request: { method: 'GET', url: `http://${versionId}.test${path}`, headers: `host\n${versionId}.test`, body: null } });
      return id;
    },
  };
}

/** The `end` messages of invocations `ids`, in that order, once all have come (at most 5 s). */
export async function executorEnds(messages: FromExecutor[], ids: number[]): Promise<EndMessage[]> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const done = new Map(messages.filter((m): m is EndMessage => m.t === 'end').map((m) => [m.id, m]));
    if (ids.every((i) => done.has(i))) return ids.map((i) => done.get(i)!);
    if (Date.now() > deadline) throw new Error(`invocations ${ids.filter((i) => !done.has(i)).join(', ')} never ended`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}
