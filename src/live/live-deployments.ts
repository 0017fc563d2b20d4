/**
 * What is being served right now: the route table and each worker's active version, replaced whole when
 * the store changes so a request sees either the old deployment or the new, never a mix.
 * Every worker is also reachable at `<name>.<workersDomain>` (like workers.dev) unless a route says otherwise.
 */
import { RouteTable } from '../routing/index.ts';
import type { Route, Version } from '../types.ts';

export class LiveDeployments {
  readonly #workersDomain: string | null;
  #table = new RouteTable([]);
  #versions = new Map<string, Version>();

  constructor(workersDomain: string | null) {
    this.#workersDomain = workersDomain;
  }

  /** Installs a new snapshot: explicit routes first, so they win ties with the default subdomains. */
  replace(routes: readonly Route[], versions: ReadonlyMap<string, Version>): void {
    const all = [...routes];
    if (this.#workersDomain) {
      for (const worker of versions.keys()) all.push({ pattern: `${worker}.${this.#workersDomain}/*`, worker });
    }
    this.#table = new RouteTable(all);
    this.#versions = new Map(versions);
  }

  /** Worker `name`'s active version, or null (a service binding's target: src/http/service-call.ts). */
  worker(name: string): Version | null {
    return this.#versions.get(name) ?? null;
  }

  /** The version serving `host` + `path`, or null when no live worker does. */
  resolve(host: string, path: string): Version | null {
    const route = this.#table.match(host, path);
    return route ? (this.#versions.get(route.worker) ?? null) : null;
  }
}
