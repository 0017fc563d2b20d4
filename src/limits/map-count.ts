/**
 * Linux bounds the memory mappings of a process (vm.max_map_count, 65,530 by default). Each warm
 * isolate takes a few of its own (code space, its thread-local areas) plus about one per 256 KB page of
 * heap (V8 maps its heap page by page): .scratch/maps-per-isolate.ts measured 12 for a small isolate
 * (~1 MB of heap and external memory: 8 + 4 pages), .scratch/maps-heap.ts 142 for one with 39 MB of
 * heap (the estimate below: 164). When V8 needs one mapping more than the kernel
 * allows, the allocation fails and V8 aborts the whole serving process: 10,000 hello-world workers on
 * two serving processes (~5,000 isolates each, `npm run bench -- --only density` with the pool bounds
 * lifted) lost both processes. So each executor's pool keeps its isolates' estimated mappings within
 * its share of the process's budget, as it does for count and memory.
 */
import { readFileSync } from 'node:fs';

const MAPPINGS_PER_ISOLATE = 8;
const HEAP_PAGE_BYTES = 256 * 1024;
/** What the isolates may use of vm.max_map_count: the rest is Node's heap, thread stacks, libraries, slack. */
const ISOLATES_SHARE = 0.8;

/** Estimated mappings of `isolates` warm isolates holding `memoryBytes` of heap and external memory together. */
export function mappingsOf(isolates: number, memoryBytes: number): number {
  return isolates * MAPPINGS_PER_ISOLATE + Math.ceil(memoryBytes / HEAP_PAGE_BYTES);
}

/** The mappings all the isolates of this process may take, or null where the OS sets no such bound. */
export function isolateMappingBudget(maxMapCount: number | null = readMaxMapCount()): number | null {
  return maxMapCount === null ? null : Math.floor(maxMapCount * ISOLATES_SHARE);
}

function readMaxMapCount(): number | null {
  try {
    const value = Number(readFileSync('/proc/sys/vm/max_map_count', 'utf8').trim());
    return Number.isFinite(value) && value > 0 ? value : null;
  } catch {
    return null;
  }
}
