/**
 * Content-addressed version ids: hex SHA-256 over the worker name and a canonical serialisation of the spec
 * (object keys sorted, as JSON), cut to 20 hex digits (80 bits). Identical uploads get identical ids,
 * whatever the key order of their JSON.
 */
import { createHash } from 'node:crypto';
import type { VersionSpec } from '../types.ts';

export const VERSION_ID = /^[0-9a-f]{20}$/;

// Bump if the serialisation ever changes, so old and new ids cannot collide.
const DOMAIN = 'isolane-version-v1';

export function isVersionId(id: unknown): id is string {
  return typeof id === 'string' && VERSION_ID.test(id);
}

export function versionId(workerName: string, spec: VersionSpec): string {
  return createHash('sha256')
    .update(`${DOMAIN}\0${workerName}\0${canonicalJson(spec)}`)
    .digest('hex')
    .slice(0, 20);
}

/** JSON with every object's keys sorted; arrays keep their order. Same rules as JSON.stringify otherwise. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, sortKeys) ?? 'null';
}

function sortKeys(_key: string, value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  // No prototype: a "__proto__" key (JSON.parse makes it an own property) stays a key, in the hash too.
  const sorted: Record<string, unknown> = Object.create(null);
  for (const key of Object.keys(value).sort()) sorted[key] = (value as Record<string, unknown>)[key];
  return sorted;
}
