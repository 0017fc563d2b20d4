/**
 * Where a serving process builds a deployed version, so that its first request finds it warm and its
 * top-level code (up to the 1 s startup limit) never holds up the serving thread's other tenants.
 *
 * - The validating process builds it on its offload thread; requests that come meanwhile wait for that
 *   build there. A version that took SLOW_START_MS or more stays warm there, and its requests go there
 *   for good (src/limits/slow-starts.ts). One that built quickly is built again on the serving thread,
 *   where its requests will run, once it is live (the deploy is answered after every process applied
 *   the change: the build must not delay that), and dropped from the offload thread.
 * - The other processes are told how long that build took: a quick one is built on the serving thread
 *   at once (one build, not two), a slow one as above. Top-level code that is quick only sometimes can
 *   stall a serving thread once; its cold start there then marks it slow.
 */
import type { Built, ExecutorClient } from '../isolates/executor-client.ts';
import type { SlowStarts } from '../limits/slow-starts.ts';
import type { Version } from '../types.ts';

/** A build this long or longer makes the version slow to start. */
export const SLOW_START_MS = 100;
/** A quick build not yet live after this long is repeated on the serving thread anyway. */
const LIVE_DEADLINE_MS = 1000;

export class VersionBuilds {
  readonly #serving: ExecutorClient;
  readonly #offload: ExecutorClient;
  readonly #slowStarts: SlowStarts;
  /** Quick builds waiting for their version to go live, by version id. */
  readonly #waiting = new Map<string, () => void>();

  constructor(serving: ExecutorClient, offload: ExecutorClient, slowStarts: SlowStarts) {
    this.#serving = serving;
    this.#offload = offload;
    this.#slowStarts = slowStarts;
  }

  /** The deploy's build (validation); rejects with its deploy error. */
  async validate(version: Version): Promise<Built> {
    let built: Built;
    this.#slowStarts.building(version.id);
    try {
      built = await this.#offload.validate(version);
    } catch (err) {
      this.#slowStarts.built(version.id, null);
      this.#offload.unload(version.id);
      throw err;
    }
    if (built.initMs >= SLOW_START_MS) {
      this.#slowStarts.built(version.id, built.initMs);
      return built;
    }
    const deadline = setTimeout(() => this.#waiting.get(version.id)?.(), LIVE_DEADLINE_MS);
    this.#waiting.set(version.id, () => {
      this.#waiting.delete(version.id);
      clearTimeout(deadline);
      setImmediate(() => {
        // The same code built there: a failure here (top-level code that behaves differently) shows at its first request.
        this.#serving.validate(version).catch(() => this.#serving.unload(version.id));
        this.#slowStarts.built(version.id, built.initMs);
        this.#offload.unload(version.id);
      });
    });
    return built;
  }

  /** Another process validated `version` in `initMs`: build it here too. */
  warm(version: Version, initMs: number): void {
    if (initMs >= SLOW_START_MS) {
      this.validate(version).catch(() => {});
      return;
    }
    this.#serving.validate(version).then(
      (built) => this.#slowStarts.note(version.id, built.initMs),
      () => this.#serving.unload(version.id),
    );
  }

  /** These versions are live now. */
  live(versionIds: Iterable<string>): void {
    for (const id of versionIds) this.#waiting.get(id)?.();
  }
}
