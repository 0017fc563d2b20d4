/**
 * Where a serving process builds a deployed version, so that its first request finds it warm and its
 * top-level code (up to the 1 s startup limit) cannot hold up the serving thread's other tenants.
 *
 * A version is built on the serving thread, where its requests will run, with a startup budget of
 * QUICK_START_CPU_MS. Nearly every worker starts well within it (Hono ~8 ms), so a deploy costs one
 * build, as before. One that runs out is built again on the offload thread with the full limit, and
 * stays warm there: its requests go there for good (src/limits/slow-starts.ts), as do later cold starts,
 * and requests that come while it builds wait for it there. So top-level code holds a serving thread for
 * at most QUICK_START_CPU_MS. Every process builds a deployed version at once (serving-pool.ts), each
 * finding out for itself. A cold start on a serving thread that takes SLOW_START_MS or more marks the
 * version slow as well (top-level code that is quick only sometimes).
 */
import { IsolaneError } from '../errors.ts';
import type { Built, ExecutorClient } from '../isolates/executor-client.ts';
import { heavyByLimits } from '../limits/heavy-workers.ts';
import { QUICK_START_CPU_MS, type SlowStarts } from '../limits/slow-starts.ts';
import type { Version } from '../types.ts';

/** A build this long or longer makes the version slow to start. */
export const SLOW_START_MS = 100;

export class VersionBuilds {
  readonly #serving: ExecutorClient;
  readonly #offload: ExecutorClient;
  readonly #slowStarts: SlowStarts;

  constructor(serving: ExecutorClient, offload: ExecutorClient, slowStarts: SlowStarts) {
    this.#serving = serving;
    this.#offload = offload;
    this.#slowStarts = slowStarts;
  }

  /** Builds `version` here and keeps it warm; rejects with its deploy error. */
  async validate(version: Version): Promise<Built> {
    // Its requests run on the offload thread (heavy-workers.ts): so is its build, with the full limit.
    if (heavyByLimits(version.limits)) return this.#buildOnOffloadThread(version);
    try {
      const built = await this.#serving.validate(version, QUICK_START_CPU_MS);
      this.#slowStarts.note(version.id, built.initMs);
      return built;
    } catch (err) {
      if (!(err instanceof IsolaneError) || err.details?.startupCpuMs !== QUICK_START_CPU_MS) throw err;
    }
    this.#slowStarts.building(version.id);
    let built: Built;
    try {
      built = await this.#buildOnOffloadThread(version);
    } catch (err) {
      this.#slowStarts.built(version.id, null);
      throw err;
    }
    // Slow however long this build took: it ran out of the budget on the serving thread.
    this.#slowStarts.built(version.id, Infinity);
    return built;
  }

  async #buildOnOffloadThread(version: Version): Promise<Built> {
    try {
      return await this.#offload.validate(version);
    } catch (err) {
      this.#offload.unload(version.id);
      throw err;
    }
  }
}
