/**
 * A ceiling on warm isolates per serving process that no setting lifts. Each tenant isolate reserves
 * ~515 MB of virtual address space, nearly all of it V8's 512 MB code range, and past ~2 TB of it in one
 * process V8 fails to allocate a heap page and aborts the process (at the ~4,100th isolate here; no
 * `mmap` had failed, so the limit is V8's own). The memory-mappings bound (map-count.ts) stops a pool
 * first at Linux's default vm.max_map_count (~3,000 hello-world isolates per process); with it raised,
 * both serving processes of the density benchmark died with SIGABRT at ~4,000 isolates each, and every
 * request in flight on them failed. 3,600 leaves room for the spare isolates and builds in progress;
 * split as the other bounds are (a quarter to the offload thread), the serving thread keeps 2,700.
 * More warm isolates take more serving processes (`--executors`).
 */
export const MAX_ISOLATES_PER_PROCESS = 3_600;

/** The process's share of `configured` warm isolates, within the ceiling above. */
export function isolatesPerProcess(configured: number): number {
  return Math.min(configured, MAX_ISOLATES_PER_PROCESS);
}

/**
 * The warm isolates `processes` serving processes keep at most when `configured` are asked for in all
 * (each is given an equal share): what the operator gets of --max-isolates, before the bounds that
 * depend on the isolates' sizes (memory, memory mappings).
 */
export function warmIsolatesAtMost(configured: number, processes: number): number {
  return processes * isolatesPerProcess(Math.ceil(configured / processes));
}
