/**
 * isolated-vm, as every module here loads it: with a full garbage collection when the process (or the
 * thread) exits, while isolated-vm is still set up.
 *
 * Why: when Node tears down its own isolate, V8 runs one young-generation collection after isolated-vm's
 * cleanup hook has already removed its per-thread environment. Any isolated-vm handle (a Reference, a
 * Context, an ExternalCopy ...) still in the young generation then gets its weak callback, which asks
 * for that environment and aborts the process (`IsolateEnvironment::GetCurrent(): Assertion
 * 'environment != nullptr' failed`, SIGABRT, seen in about 1 exit in 5 of a test file that builds many
 * isolates; core dump: ClassHandle::WeakCallback ← Heap::CollectGarbage ← CppHeap::StartDetachingIsolate
 * ← Isolate::Deinit). A full collection at 'exit' frees the dead handles while their callbacks can still
 * run, and moves the live ones out of the young generation, so the teardown's collection finds none.
 *
 * `gc` comes from a throwaway context made while --expose-gc is on; the flag is turned off again at
 * once, so no other context (no tenant's) gets it.
 */
import ivm from 'isolated-vm';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

export default ivm;

setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;
setFlagsFromString('--no-expose-gc');

process.once('exit', () => collectGarbage());
