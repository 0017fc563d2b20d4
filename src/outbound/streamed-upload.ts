/**
 * A worker's stream request body on its way upstream: the runtime sends chunks as the worker produces
 * them (bridge op 'fetchUpload') and undici reads this Readable as the upstream takes them. Past
 * HIGH_WATER_BYTES buffered, the runtime is told to wait; `wanted` is called when undici has read enough
 * for more (the executor then enters the isolate with dispatch('fetchPull')).
 */
import { Readable } from 'node:stream';

const HIGH_WATER_BYTES = 64 * 1024;

export class StreamedUpload {
  readonly readable: Readable;
  #waiting = false;

  constructor(wanted: () => void) {
    this.readable = new Readable({
      highWaterMark: HIGH_WATER_BYTES,
      read: () => {
        if (!this.#waiting) return;
        this.#waiting = false;
        wanted();
      },
    });
    // The error of end(error) reaches the upstream request, which fails, and through it the worker's
    // fetch (a TypeError). Until undici reads the body it has no listener of its own, and an 'error'
    // event with none is thrown: a tenant's stream that errored ended the serving process.
    this.readable.on('error', () => {});
  }

  /** Queues a chunk; false when the runtime should wait for `wanted`. */
  push(chunk: ArrayBuffer): boolean {
    if (this.readable.destroyed || this.readable.readableEnded) return false;
    const more = this.readable.push(Buffer.from(chunk));
    if (!more) this.#waiting = true;
    return more;
  }

  /** The body ended; with `error`, the upstream request fails instead of ending cleanly. */
  end(error: string): void {
    if (this.readable.destroyed) return;
    if (error) this.readable.destroy(new Error(error));
    else this.readable.push(null);
  }
}
