/**
 * Where workers, their immutable versions and the route list live. The server holds one `Store`; the fs
 * implementation is `fs-store.ts`, and a networked backend implements the same interface and passes the same
 * contract suite (test/store/contract.ts).
 *
 * Promises every implementation keeps:
 * - A version id is content-addressed (see `version-id.ts`): the same upload to the same worker gives the
 *   same id, and `putVersion` is idempotent. Versions never change once stored.
 * - `activate` is atomic: readers see the old active version or the new one, never a mix, even across a crash.
 * - Writes to one worker, and writes to the route list, happen one at a time.
 * - Every route points at an existing worker: `putRoute` checks, `deleteWorker` removes the worker's routes.
 * - `onChange` listeners run after the change is durable.
 */
import type { Route, Version, VersionSpec, WorkerRecord } from '../types.ts';

export type StoreChange = { kind: 'worker'; name: string } | { kind: 'routes' };

export type StoreChangeListener = (change: StoreChange) => void;

/** How many versions a worker keeps for rollback, the active one included. */
export const KEPT_VERSIONS = 10;

export interface Store {
  /**
   * Stores a version without activating it; returns the stored one (with its first `createdAt` when it
   * already existed). Throws `ISO_ERR_DEPLOY_INVALID_NAME`.
   */
  putVersion(workerName: string, spec: VersionSpec): Promise<Version>;
  /** Null when the worker has no such version (including ids that are not well-formed). */
  getVersion(workerName: string, id: string): Promise<Version | null>;
  /**
   * Makes a stored version the active one, creating the worker if new. The version moves to the front of
   * `versions`; the oldest beyond `KEPT_VERSIONS` are dropped and their files deleted. Activating an older
   * kept version is a rollback. Throws `ISO_ERR_VERSION_NOT_FOUND`.
   */
  activate(workerName: string, versionId: string): Promise<WorkerRecord>;
  getWorker(name: string): Promise<WorkerRecord | null>;
  /** Sorted by name. */
  listWorkers(): Promise<WorkerRecord[]>;
  /**
   * Replaces the worker's cron triggers (expressions checked by the caller: src/triggers/cron.ts). Throws
   * `ISO_ERR_WORKER_NOT_FOUND`, `ISO_ERR_DEPLOY_INVALID_NAME`.
   */
  setSchedules(name: string, schedules: string[]): Promise<WorkerRecord>;
  /** Deletes the worker, its versions and its routes; false when there was no such worker. */
  deleteWorker(name: string): Promise<boolean>;

  /** In the order they were added (the order `RouteTable` uses to break ties). */
  listRoutes(): Promise<Route[]>;
  /**
   * Adds a route, or replaces the one with the same pattern, moving it from another worker (PUT
   * /v1/routes). Patterns are stored in canonical form (`parseRoutePattern(...).pattern`), which is
   * returned. Throws `ISO_ERR_ROUTE_INVALID`, `ISO_ERR_DEPLOY_INVALID_NAME`, `ISO_ERR_WORKER_NOT_FOUND`.
   */
  putRoute(route: Route): Promise<Route>;
  /**
   * A deploy's routes for `worker`, all or none, in one write: a pattern another worker holds is not
   * moved (`ISO_ERR_ROUTE_INVALID` naming it, nothing written), decided under the same lock as the
   * write, so two deploys cannot both be told they hold it. Returns the canonical patterns.
   */
  putRoutes(worker: string, patterns: string[]): Promise<string[]>;
  /** Any spelling of the pattern works (`Example.com` deletes `example.com/*`); false when absent. */
  deleteRoute(pattern: string): Promise<boolean>;

  /** Calls `listener` after each durable change; returns the unsubscribe function. */
  onChange(listener: StoreChangeListener): () => void;
  /**
   * Removes leftovers of crashes: temp files, versions no worker references (except recent uploads of this
   * process not yet activated) and directories of workers that were never activated or half deleted.
   * Returns the removed paths, relative to the store's root.
   */
  cleanup(): Promise<{ removed: string[] }>;
}
