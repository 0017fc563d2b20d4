/**
 * The serving processes' malloc arenas. glibc gives threads that allocate at once arenas of their own,
 * up to eight per core, and each arena keeps the memory it once held: a serving process has a dozen
 * threads (its serving thread, the offload thread, V8's workers, isolated-vm's and libuv's), and with
 * two arenas instead of glibc's default it held ~10 MB less, warm isolates or not (the density
 * benchmark, 200 and 500 hello-world workers: 20-26 MB less for the two processes), for the same
 * throughput and cold starts (docs/BENCHMARKS.md, session 22). An operator's own MALLOC_ARENA_MAX wins.
 */
const ARENAS = '2';

/** The arena setting the serving processes' environment adds to the primary's (serving-env.ts). */
export function mallocArenas(primaryEnv: NodeJS.ProcessEnv): Record<string, string> {
  return primaryEnv.MALLOC_ARENA_MAX === undefined ? { MALLOC_ARENA_MAX: ARENAS } : {};
}
