/**
 * A request body handed to the worker as it arrives: the connection is read one chunk per pull from
 * the worker (so a slow worker slows the client through TCP, and nothing is held whole), counted
 * against the worker's request_bytes limit.
 */
import type { IncomingMessage } from 'node:http';

export interface BodySink {
  chunk(bytes: ArrayBuffer | null): void;
  /** The body passed `limit` bytes: nothing more is delivered. */
  tooLarge(limit: number): void;
  /** The connection failed before the body ended. */
  failed(message: string): void;
}

/** Bytes past the limit still read and dropped before the connection is closed (see #onDrained). */
const DRAIN_MARGIN_BYTES = 1024 * 1024;

export class StreamedBody {
  readonly #req: IncomingMessage;
  readonly #limit: number;
  readonly #sink: BodySink;
  #wanted = false;
  #ended = false;
  #stopped = false;
  #draining = false;
  bytes = 0;

  constructor(req: IncomingMessage, limit: number, sink: BodySink) {
    this.#req = req;
    this.#limit = limit;
    this.#sink = sink;
    // Paused before the listener is attached, so attaching it does not start the flow.
    req.pause();
    req.on('data', this.#onData);
    req.on('end', this.#onEnd);
    req.on('error', this.#onError);
  }

  /** The worker wants the next chunk. */
  pull(): void {
    if (this.#stopped) return;
    if (this.#ended) {
      this.#stopped = true;
      this.#sink.chunk(null);
      return;
    }
    this.#wanted = true;
    this.#req.resume();
  }

  /**
   * The invocation is over: what is left of the body is read and dropped, so the connection can be
   * reused, but still counted: past the limit the connection is closed instead (a client could
   * otherwise send without end to a worker that answered without reading).
   */
  stop(): void {
    if (this.#draining) return;
    this.#stopped = true;
    this.#draining = true;
    this.#req.off('data', this.#onData);
    this.#req.on('data', this.#onDrained);
    this.#req.resume();
  }

  #onData = (chunk: Buffer): void => {
    this.#req.pause();
    this.bytes += chunk.length;
    if (this.bytes > this.#limit) {
      this.stop();
      this.#sink.tooLarge(this.#limit);
      return;
    }
    if (this.#stopped) return;
    this.#wanted = false;
    // The chunk may share a pooled buffer: the worker gets bytes of its own.
    this.#sink.chunk(chunk.buffer.slice(chunk.byteOffset, chunk.byteOffset + chunk.byteLength) as ArrayBuffer);
  };

  #onDrained = (chunk: Buffer): void => {
    this.bytes += chunk.length;
    // A margin past the limit first: closing a connection with unread input resets it, and a
    // client still sending could lose the answer (a 413) written just before.
    if (this.bytes > this.#limit + DRAIN_MARGIN_BYTES) this.#req.destroy();
  };

  #onEnd = (): void => {
    this.#ended = true;
    if (this.#wanted && !this.#stopped) {
      this.#stopped = true;
      this.#sink.chunk(null);
    }
  };

  #onError = (err: Error): void => {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#sink.failed(`the request body could not be read: ${err.message}`);
  };
}
