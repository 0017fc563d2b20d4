/**
 * Checks on what is read back from disk. Our writes are atomic, so a file failing these checks was damaged
 * or edited by hand: better a clear ISO_ERR_STORE_IO than a half-valid record reaching the isolate pool.
 */
import { DEFAULT_LIMITS, type Route, type Version, type VersionSpec, type WorkerRecord } from '../types.ts';
import { corrupt } from './store-io.ts';
import { isVersionId, versionId } from './version-id.ts';

export function parseStoredJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw corrupt(what, error);
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function checkWorkerRecord(value: unknown, name: string): WorkerRecord {
  const what = `worker.json of ${name}`;
  if (
    !isObject(value) ||
    value.name !== name ||
    !isVersionId(value.activeVersion) ||
    !Array.isArray(value.versions) ||
    !value.versions.every(isVersionId) ||
    value.versions[0] !== value.activeVersion ||
    (value.schedules !== undefined && !(Array.isArray(value.schedules) && value.schedules.every((cron) => typeof cron === 'string'))) ||
    typeof value.createdAt !== 'string' ||
    typeof value.updatedAt !== 'string'
  ) {
    throw corrupt(what);
  }
  return {
    name,
    activeVersion: value.activeVersion,
    versions: [...value.versions],
    // Records written before cron triggers existed have none.
    schedules: value.schedules === undefined ? [] : [...(value.schedules as string[])],
    createdAt: value.createdAt,
    updatedAt: value.updatedAt,
  };
}

/** Also re-derives the id from the content, so a damaged or swapped file is caught, not served. */
export function checkVersion(value: unknown, name: string, id: string): Version {
  const what = `version ${id} of ${name}`;
  if (!isObject(value) || value.id !== id || value.worker !== name || typeof value.createdAt !== 'string') {
    throw corrupt(what);
  }
  const { id: _id, worker: _worker, createdAt: _createdAt, ...spec } = value;
  if (versionId(name, spec as unknown as VersionSpec) !== id) throw corrupt(what);
  const version = value as unknown as Version;
  // Versions stored before a limit existed get its default.
  return { ...version, limits: { ...DEFAULT_LIMITS, ...version.limits } };
}

export function checkRoutes(value: unknown): Route[] {
  if (!isObject(value) || !Array.isArray(value.routes)) throw corrupt('routes.json');
  return value.routes.map((route: unknown) => {
    if (!isObject(route) || typeof route.pattern !== 'string' || typeof route.worker !== 'string') {
      throw corrupt('routes.json');
    }
    return { pattern: route.pattern, worker: route.worker };
  });
}
