/**
 * Versions whose isolates take long to start: a big bundle, or top-level code that computes (up to the
 * 1 s startup limit). A serving process runs their invocations on its offload thread, so that building
 * one (at a cold start, after eviction or a restart) holds up that thread and not the serving thread
 * with every other tenant's connections. Learnt from a build on the serving thread that ran out of its
 * startup budget, at a deploy (src/serving/version-builds.ts) or a cold start (invocation-routes.ts), and
 * from any cold start that took long here.
 * While such a build runs on the offload thread, the version's requests go there too, to wait for it
 * rather than build it again here. Per process, forgotten when the version retires.
 */

/**
 * The CPU a version's top-level code may use on a serving thread, at a deploy's build or a cold start,
 * before it is built on the offload thread instead (version-builds.ts, invocation-routes.ts).
 */
export const QUICK_START_CPU_MS = 50;

/** Versions remembered at most; past it the oldest is forgotten (and learnt again if it still starts slowly). */
const MAX_VERSIONS = 10_000;

export class SlowStarts {
  readonly #thresholdMs: number;
  readonly #versions = new Set<string>();
  readonly #building = new Set<string>();

  constructor(thresholdMs: number) {
    this.#thresholdMs = thresholdMs;
  }

  /** A build of `versionId` took `initMs`; returns whether the version counts as slow to start. */
  note(versionId: string, initMs: number): boolean {
    if (initMs < this.#thresholdMs) return this.#versions.has(versionId);
    this.#versions.delete(versionId);
    this.#versions.add(versionId);
    if (this.#versions.size > MAX_VERSIONS) this.#versions.delete(this.#versions.values().next().value!);
    return true;
  }

  /** A build of `versionId` started on the offload thread: until it ends, the version counts as slow. */
  building(versionId: string): void {
    this.#building.add(versionId);
  }

  /** That build ended after `initMs` (null: it failed); returns whether the version is slow to start. */
  built(versionId: string, initMs: number | null): boolean {
    this.#building.delete(versionId);
    return initMs !== null && this.note(versionId, initMs);
  }

  has(versionId: string): boolean {
    return this.#building.has(versionId) || this.#versions.has(versionId);
  }

  forget(versionId: string): void {
    this.#versions.delete(versionId);
    this.#building.delete(versionId);
  }
}
