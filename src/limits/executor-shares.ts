/**
 * A serving process's warm-isolate bounds, split between its two executor threads: a quarter to the
 * offload thread (heavy and slow-to-start workers, started on first need), the rest to the serving
 * thread. Each bound is the process's own: the count within the address-space ceiling
 * (address-space.ts), the memory, and the memory mappings vm.max_map_count allows (map-count.ts).
 */
import { isolatesPerProcess } from './address-space.ts';

interface ProcessBounds {
  maxIsolates: number;
  maxMemoryBytes: number;
}

export type ThreadBounds<T extends ProcessBounds> = T & { maxMappings: number | null };

/** `pool` as configured for one process, and its mapping budget (null: no such bound on this OS). */
export function executorShares<T extends ProcessBounds>(pool: T, mappings: number | null): { serving: ThreadBounds<T>; offload: ThreadBounds<T> } {
  const maxIsolates = isolatesPerProcess(pool.maxIsolates);
  const offload = {
    ...pool,
    maxIsolates: Math.ceil(maxIsolates / 4),
    maxMemoryBytes: Math.ceil(pool.maxMemoryBytes / 4),
    maxMappings: mappings === null ? null : Math.floor(mappings / 4),
  };
  const serving = {
    ...pool,
    maxIsolates: Math.max(1, maxIsolates - offload.maxIsolates),
    maxMemoryBytes: pool.maxMemoryBytes - offload.maxMemoryBytes,
    maxMappings: mappings === null ? null : mappings - offload.maxMappings!,
  };
  return { serving, offload };
}
