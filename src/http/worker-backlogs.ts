/**
 * What each worker's clients have not taken yet in this process: whole response bodies and WebSocket
 * frames waiting in their sockets. Unsent bytes are this process's memory, outside every isolate's
 * limit, and held by neither an admission slot nor wall time (a whole body's invocation ended when it
 * was handed over; an open WebSocket runs nothing). So each worker has one budget for both.
 *
 * Found by reviews: 40 WebSocket clients that stopped reading held 530 MB for as long as they stayed;
 * 150 clients that read a 16 MB body 64 KB at a time (never stalling, so never disconnected) held 2.6 GB.
 */

/** What all of one worker's clients may leave unsent in this process. */
export const WORKER_UNSENT_BYTES = 64 * 1024 * 1024;
/**
 * Sends up to this size neither count nor wait on the budget: the kernel takes them at once, and a
 * worker's small answers must not be refused while one client downloads a big body slowly.
 */
export const SMALL_SEND_BYTES = 64 * 1024;

/** A response or a WebSocket whose client has not taken everything yet. */
export interface Backlog {
  unsentBytes(): number;
}

const byWorker = new Map<string, Set<Backlog>>();

/** The bytes `worker`'s clients have not taken yet (but `except`'s). */
function unsentByWorker(worker: string, except?: Backlog): number {
  let bytes = 0;
  for (const backlog of byWorker.get(worker) ?? []) if (backlog !== except) bytes += backlog.unsentBytes();
  return bytes;
}

/**
 * Whether `bytes` more (what `self` has waiting, when it is counted already) may wait for `worker`'s
 * clients. One send always may, whatever its size (response_bytes bounds a body), when nothing else of
 * the worker's waits.
 */
export function roomFor(worker: string, bytes: number, self?: Backlog): boolean {
  if (bytes <= SMALL_SEND_BYTES) return true;
  const others = unsentByWorker(worker, self);
  return others === 0 || others + bytes <= WORKER_UNSENT_BYTES;
}

export function addBacklog(worker: string, backlog: Backlog): void {
  let backlogs = byWorker.get(worker);
  if (!backlogs) byWorker.set(worker, (backlogs = new Set()));
  backlogs.add(backlog);
}

export function removeBacklog(worker: string, backlog: Backlog): void {
  const backlogs = byWorker.get(worker);
  if (!backlogs?.delete(backlog)) return;
  if (backlogs.size === 0) byWorker.delete(worker);
}
