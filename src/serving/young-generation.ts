/**
 * The serving processes' own young generation: 8 MB per semi-space, as the primary's, instead of V8's
 * default for this machine's memory (64 MB, up to 128 MB of new space committed under load). Smaller is
 * worse: at 4 MB a serving process spent ten times as long in scavenges (each copies the in-flight
 * requests' objects, ~2 ms), 341 against 16-25 ms in 7 s at 7,000 req/s; at 8 MB, 34-37 ms
 * (docs/BENCHMARKS.md, session 21).
 *
 * The flag is V8's, for the whole process: it sizes every heap made while it is set, so a tenant isolate
 * would get a young generation up to 8 MB per semi-space, where isolated-vm sizes it from the isolate's
 * memory limit (1 MB for 128 MB). The process's own heap is sized at start-up, so the serving process
 * clears the flag before it makes any isolate. (isolated-vm means to clear it when it loads, but its
 * call passes the flag where V8 expects the program's name, and only the old-space flag is cleared.)
 */
import { setFlagsFromString } from 'node:v8';

const SEMI_SPACE_MB = 8;
const FLAG = '--max-semi-space-size';

/** The serving processes' Node.js flags: the primary's, with the young generation they run with. */
export function servingExecArgv(primaryExecArgv: string[]): string[] {
  return [...primaryExecArgv.filter((arg) => !arg.startsWith(FLAG)), `${FLAG}=${SEMI_SPACE_MB}`];
}

/** Isolates made from now on size their young generation from their own memory limit again. */
export function unsetYoungGenerationFlag(): void {
  setFlagsFromString(`${FLAG}=0`);
}
