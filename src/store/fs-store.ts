/**
 * The Store on a local directory:
 *
 *   <dataDir>/routes.json                          {"routes": [{pattern, worker}, ...]}
 *   <dataDir>/workers/<name>/worker.json           the pointer: active version + kept versions
 *   <dataDir>/workers/<name>/versions/<id>.json    one immutable version each
 *
 * Every file is replaced atomically (`atomic-file.ts`). A deploy writes the version first and the pointer
 * last, so a process killed at any point restarts with the old active version or the new one. A worker
 * directory without worker.json is not a worker (an upload never activated, or a delete cut short).
 * Paths are only ever built from names and ids that passed `assertWorkerName` / `isVersionId`.
 *
 * One process owns a data directory: the write mutex is in memory.
 */
import { readFileSync } from 'node:fs';
import { readdir, rm, rmdir, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { IsolaneError } from '../errors.ts';
import { parseRoutePattern } from '../routing/route-pattern.ts';
import type { Route, Version, VersionSpec, WorkerRecord } from '../types.ts';
import { fsyncDir, isTempFile, mkdirDurable, writeFileAtomic } from './atomic-file.ts';
import { KeyedMutex } from './keyed-mutex.ts';
import { KEPT_VERSIONS, type Store, type StoreChange, type StoreChangeListener } from './store.ts';
import { isMissing, storeIo } from './store-io.ts';
import { checkRoutes, checkVersion, checkWorkerRecord, parseStoredJson } from './stored-records.ts';
import { isVersionId, versionId } from './version-id.ts';
import { assertWorkerName, isWorkerName } from './worker-name.ts';

/** Uploads not activated yet are safe from deletion this long (a deploy is putVersion, then activate). */
const PENDING_TTL_MS = 60 * 60 * 1000;
const ROUTES_LOCK = ' routes'; // cannot collide with a worker name
const VERSION_FILE = /^([0-9a-f]{20})\.json$/;

export async function openFsStore(dataDir: string): Promise<FsStore> {
  const root = resolve(dataDir);
  await storeIo('open the data directory', () => mkdirDurable(join(root, 'workers')));
  return new FsStore(root);
}

export class FsStore implements Store {
  readonly dataDir: string;
  readonly #workersDir: string;
  readonly #routesFile: string;
  readonly #locks = new KeyedMutex();
  readonly #listeners = new Set<StoreChangeListener>();
  /** `<name>/<id>` → when this process stored it; cleared by activate. */
  readonly #pending = new Map<string, number>();

  /** Use `openFsStore`, which creates the directories first. */
  constructor(dataDir: string) {
    this.dataDir = dataDir;
    this.#workersDir = join(dataDir, 'workers');
    this.#routesFile = join(dataDir, 'routes.json');
  }

  async putVersion(workerName: string, spec: VersionSpec): Promise<Version> {
    assertWorkerName(workerName);
    // A Version passed back in as a spec must hash like its spec, not like its id, owner and timestamp.
    const { id: _id, worker: _worker, createdAt: _createdAt, ...clean } = spec as VersionSpec & Partial<Version>;
    const id = versionId(workerName, clean);
    return this.#locks.run(workerName, () =>
      storeIo(`store a version of ${workerName}`, async () => {
        this.#markPending(workerName, id);
        // Idempotent: an identical upload keeps the stored copy. A damaged copy is rewritten.
        const existing = await this.#readVersion(workerName, id).catch(() => null);
        if (existing !== null) return existing;
        const version: Version = { ...clean, id, worker: workerName, createdAt: new Date().toISOString() };
        await mkdirDurable(this.#versionsDir(workerName));
        await writeFileAtomic(this.#versionFile(workerName, id), `${JSON.stringify(version)}\n`);
        return version;
      }),
    );
  }

  async getVersion(workerName: string, id: string): Promise<Version | null> {
    assertWorkerName(workerName);
    if (!isVersionId(id)) return null;
    return storeIo(`read version ${id} of ${workerName}`, () => this.#readVersion(workerName, id));
  }

  async activate(workerName: string, id: string): Promise<WorkerRecord> {
    assertWorkerName(workerName);
    return this.#locks.run(workerName, () =>
      storeIo(`activate version ${id} of ${workerName}`, async () => {
        if (!isVersionId(id) || (await this.#readVersion(workerName, id)) === null) {
          throw new IsolaneError('ISO_ERR_VERSION_NOT_FOUND', `worker ${workerName} has no version ${id}`);
        }
        this.#pending.delete(`${workerName}/${id}`);
        const current = await this.#readWorker(workerName);
        if (current?.activeVersion === id) return current;

        const now = new Date().toISOString();
        const versions = [id, ...(current?.versions ?? []).filter((kept) => kept !== id)];
        const record: WorkerRecord = {
          name: workerName,
          activeVersion: id,
          versions: versions.slice(0, KEPT_VERSIONS),
          schedules: current?.schedules ?? [],
          createdAt: current?.createdAt ?? now,
          updatedAt: now,
        };
        // The pointer goes last: until this rename lands, readers see the old active version.
        await writeFileAtomic(this.#workerFile(workerName), `${JSON.stringify(record)}\n`);
        // Only now may dropped versions go. Failures leave files for `cleanup`, not a failed deploy.
        for (const dropped of versions.slice(KEPT_VERSIONS)) {
          if (this.#isPending(workerName, dropped)) continue;
          await unlink(this.#versionFile(workerName, dropped)).catch(() => {});
        }
        this.#emit({ kind: 'worker', name: workerName });
        return record;
      }),
    );
  }

  async getWorker(name: string): Promise<WorkerRecord | null> {
    assertWorkerName(name);
    return storeIo(`read worker ${name}`, () => this.#readWorker(name));
  }

  async listWorkers(): Promise<WorkerRecord[]> {
    return storeIo('list workers', async () => {
      const names = (await readdir(this.#workersDir)).filter(isWorkerName).sort();
      const records = await Promise.all(names.map((name) => this.#readWorker(name)));
      return records.filter((record) => record !== null);
    });
  }

  async setSchedules(name: string, schedules: string[]): Promise<WorkerRecord> {
    assertWorkerName(name);
    return this.#locks.run(name, () =>
      storeIo(`store the cron triggers of ${name}`, async () => {
        const current = await this.#readWorker(name);
        if (current === null) throw new IsolaneError('ISO_ERR_WORKER_NOT_FOUND', `no worker named ${name}`);
        const record: WorkerRecord = { ...current, schedules: [...schedules], updatedAt: new Date().toISOString() };
        await writeFileAtomic(this.#workerFile(name), `${JSON.stringify(record)}\n`);
        this.#emit({ kind: 'worker', name });
        return record;
      }),
    );
  }

  async deleteWorker(name: string): Promise<boolean> {
    assertWorkerName(name);
    return this.#locks.run(name, () =>
      storeIo(`delete worker ${name}`, async () => {
        if ((await this.#readWorker(name)) === null) return false;
        // Routes first: a crash in between leaves a worker without routes, never routes to no worker.
        await this.#locks.run(ROUTES_LOCK, async () => {
          const routes = await this.#readRoutes();
          const kept = routes.filter((route) => route.worker !== name);
          if (kept.length !== routes.length) await this.#writeRoutes(kept);
        });
        // Removing the pointer deletes the worker at once; the rest is garbage even if we die now.
        const dir = this.#workerDir(name);
        await unlink(this.#workerFile(name));
        await fsyncDir(dir);
        await rm(dir, { recursive: true, force: true }).catch(() => {}); // leftovers are for `cleanup`
        for (const key of this.#pending.keys()) if (key.startsWith(`${name}/`)) this.#pending.delete(key);
        this.#emit({ kind: 'worker', name });
        return true;
      }),
    );
  }

  async listRoutes(): Promise<Route[]> {
    return storeIo('read routes', () => this.#readRoutes());
  }

  async putRoute(route: Route): Promise<Route> {
    const stored: Route = { pattern: parseRoutePattern(route.pattern).pattern, worker: route.worker };
    assertWorkerName(stored.worker);
    // Lock order everywhere: worker, then routes. Holding the worker's lock keeps it from being deleted.
    return this.#locks.run(stored.worker, () =>
      this.#locks.run(ROUTES_LOCK, () =>
        storeIo(`store route ${stored.pattern}`, async () => {
          if ((await this.#readWorker(stored.worker)) === null) {
            throw new IsolaneError('ISO_ERR_WORKER_NOT_FOUND', `no worker named ${stored.worker}`);
          }
          const routes = await this.#readRoutes();
          const index = routes.findIndex((existing) => existing.pattern === stored.pattern);
          if (index !== -1 && routes[index].worker === stored.worker) return stored;
          if (index === -1) routes.push(stored);
          else routes[index] = stored;
          await this.#writeRoutes(routes);
          return stored;
        }),
      ),
    );
  }

  async putRoutes(worker: string, patterns: string[]): Promise<string[]> {
    const canonical = [...new Set(patterns.map((pattern) => parseRoutePattern(pattern).pattern))];
    assertWorkerName(worker);
    if (canonical.length === 0) return canonical;
    return this.#locks.run(worker, () =>
      this.#locks.run(ROUTES_LOCK, () =>
        storeIo(`store the routes of ${worker}`, async () => {
          if ((await this.#readWorker(worker)) === null) throw new IsolaneError('ISO_ERR_WORKER_NOT_FOUND', `no worker named ${worker}`);
          const routes = await this.#readRoutes();
          const owners = new Map(routes.map((route) => [route.pattern, route.worker]));
          const taken = canonical.find((pattern) => owners.has(pattern) && owners.get(pattern) !== worker);
          if (taken) throw new IsolaneError('ISO_ERR_ROUTE_INVALID', `route ${taken} already belongs to worker ${owners.get(taken)}`);
          const added = canonical.filter((pattern) => !owners.has(pattern));
          if (added.length > 0) await this.#writeRoutes([...routes, ...added.map((pattern) => ({ pattern, worker }))]);
          return canonical;
        }),
      ),
    );
  }

  async deleteRoute(pattern: string): Promise<boolean> {
    const canonical = parseRoutePattern(pattern).pattern;
    return this.#locks.run(ROUTES_LOCK, () =>
      storeIo(`delete route ${canonical}`, async () => {
        const routes = await this.#readRoutes();
        const kept = routes.filter((route) => route.pattern !== canonical);
        if (kept.length === routes.length) return false;
        await this.#writeRoutes(kept);
        return true;
      }),
    );
  }

  onChange(listener: StoreChangeListener): () => void {
    // Wrapped so the same function subscribed twice is two subscriptions.
    const entry: StoreChangeListener = (change) => listener(change);
    this.#listeners.add(entry);
    return () => {
      this.#listeners.delete(entry);
    };
  }

  async cleanup(): Promise<{ removed: string[] }> {
    const removed: string[] = [];
    await this.#locks.run(ROUTES_LOCK, () =>
      storeIo('clean up the data directory', () => this.#removeTempFiles(this.dataDir, '', removed)),
    );
    const names = await storeIo('list workers', () => readdir(this.#workersDir));
    for (const name of names.filter(isWorkerName)) {
      await this.#locks.run(name, () => storeIo(`clean up worker ${name}`, () => this.#cleanWorker(name, removed)));
    }
    return { removed };
  }

  async #cleanWorker(name: string, removed: string[]): Promise<void> {
    const dir = this.#workerDir(name);
    const versionsDir = this.#versionsDir(name);
    await this.#removeTempFiles(dir, `workers/${name}/`, removed);
    const record = await this.#readWorker(name);
    const referenced = new Set(record?.versions);
    let left = 0;
    for (const file of await readdirIfExists(versionsDir)) {
      const id = VERSION_FILE.exec(file)?.[1];
      if (isTempFile(file) || (id !== undefined && !referenced.has(id) && !this.#isPending(name, id))) {
        await unlink(join(versionsDir, file));
        removed.push(`workers/${name}/versions/${file}`);
      } else {
        left++;
      }
    }
    // An upload never activated, or a delete cut short: drop the empty shell too.
    if (record === null && left === 0) {
      await rmdir(versionsDir).catch(ignoreMissing);
      await rmdir(dir).catch(() => {});
    }
  }

  async #removeTempFiles(dir: string, prefix: string, removed: string[]): Promise<void> {
    for (const file of (await readdirIfExists(dir)).filter(isTempFile)) {
      await unlink(join(dir, file));
      removed.push(prefix + file);
    }
  }

  #emit(change: StoreChange): void {
    for (const listener of this.#listeners) {
      try {
        listener(change);
      } catch (error) {
        // The change is already durable: a listener's bug must not fail it. Report it as an uncaught error.
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }

  #markPending(name: string, id: string): void {
    const now = Date.now();
    for (const [key, at] of this.#pending) if (now - at > PENDING_TTL_MS) this.#pending.delete(key);
    this.#pending.set(`${name}/${id}`, now);
  }

  #isPending(name: string, id: string): boolean {
    const at = this.#pending.get(`${name}/${id}`);
    return at !== undefined && Date.now() - at <= PENDING_TTL_MS;
  }

  async #readVersion(name: string, id: string): Promise<Version | null> {
    const text = await readIfExists(this.#versionFile(name, id));
    if (text === null) return null;
    return checkVersion(parseStoredJson(text, `version ${id} of ${name}`), name, id);
  }

  async #readWorker(name: string): Promise<WorkerRecord | null> {
    const text = await readIfExists(this.#workerFile(name));
    if (text === null) return null;
    return checkWorkerRecord(parseStoredJson(text, `worker.json of ${name}`), name);
  }

  async #readRoutes(): Promise<Route[]> {
    const text = await readIfExists(this.#routesFile);
    return text === null ? [] : checkRoutes(parseStoredJson(text, 'routes.json'));
  }

  async #writeRoutes(routes: Route[]): Promise<void> {
    await writeFileAtomic(this.#routesFile, `${JSON.stringify({ routes }, null, 2)}\n`);
    this.#emit({ kind: 'routes' });
  }

  #workerDir(name: string): string {
    return join(this.#workersDir, name);
  }

  #workerFile(name: string): string {
    return join(this.#workersDir, name, 'worker.json');
  }

  #versionsDir(name: string): string {
    return join(this.#workersDir, name, 'versions');
  }

  #versionFile(name: string, id: string): string {
    return join(this.#workersDir, name, 'versions', `${id}.json`);
  }
}

/** Synchronous for the reason atomic-file.ts gives: a read from the page cache is quicker than the pool's hops. */
async function readIfExists(file: string): Promise<string | null> {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    if (isMissing(error)) return null;
    throw error;
  }
}

async function readdirIfExists(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (error) {
    if (isMissing(error)) return [];
    throw error;
  }
}

function ignoreMissing(error: unknown): void {
  if (!isMissing(error)) throw error;
}
