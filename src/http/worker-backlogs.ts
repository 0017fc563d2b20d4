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

/** A response or a WebSocket whose client has not taken everything yet. */
export interface Backlog {
  unsentBytes(): number;
}

const byWorker = new Map<string, Set<Backlog>>();

/** The bytes `worker`'s clients have not taken yet. */
export function unsentByWorker(worker: string): number {
  let bytes = 0;
  for (const backlog of byWorker.get(worker) ?? []) bytes += backlog.unsentBytes();
  return bytes;
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
