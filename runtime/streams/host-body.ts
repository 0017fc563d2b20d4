/**
 * An incoming request body that the host streams in as it arrives: a byte stream whose pull asks the
 * host for the next chunk (host 'pullBody'); the chunk comes back later as dispatch('bodyChunk', id,
 * bytes | null at the end) or dispatch('bodyError'). One pull at a time, so the host reads from the
 * client only as fast as the worker consumes: a large upload is never held whole anywhere.
 */
import { hostPullBody } from '../bridge.ts';
import {
  ArrayBufferPrototypeGetByteLength,
  ObjectCreate,
  ObjectSetPrototypeOf,
  PromiseCtor,
  Uint8ArrayCtor,
} from '../primordials.ts';
import { type ReadableStream, loadStreams } from './web-streams.ts';

type ByteController = Parameters<ReturnType<typeof loadStreams>['enqueueBytes']>[0];

interface Pending {
  controller: ByteController;
  /** Settles the pull that asked for the chunk. */
  delivered: () => void;
}

const pulls: Record<number, Pending | undefined> = ObjectCreate(null);

export function hostBodyStream(id: number): ReadableStream<Uint8Array> {
  const streams = loadStreams();
  const source = {
    type: 'bytes' as const,
    pull(controller: ByteController) {
      return new PromiseCtor<void>((resolve) => {
        pulls[id] = { controller, delivered: resolve };
        hostPullBody(id);
      });
    },
    cancel() {
      // The host drops what is left of the body when the invocation ends.
      delete pulls[id];
    },
  };
  // The library reads `pull`, `cancel`, … off the source: none may come from Object.prototype.
  ObjectSetPrototypeOf(source, null);
  return new streams.api.ReadableStream(source) as ReadableStream<Uint8Array>;
}

/** dispatch('bodyChunk'): the next chunk of invocation `id`'s request body, or null at its end. */
export function bodyChunk(id: number, chunk: ArrayBuffer | null): void {
  const pending = pulls[id];
  if (pending === undefined) return;
  delete pulls[id];
  const streams = loadStreams();
  if (chunk === null) {
    streams.closeBytes(pending.controller);
    // A BYOB read waiting on the closed stream is answered with zero bytes.
    (pending.controller as { byobRequest: { respond(n: number): void } | null }).byobRequest?.respond(0);
  } else if (ArrayBufferPrototypeGetByteLength(chunk) > 0) {
    streams.enqueueBytes(pending.controller, new Uint8ArrayCtor(chunk));
  }
  pending.delivered();
}

/** dispatch('bodyError'): the body cannot be read to its end (too large, client gone). */
export function bodyError(id: number, message: string): void {
  const pending = pulls[id];
  if (pending === undefined) return;
  delete pulls[id];
  pending.controller.error(new TypeError(message));
  pending.delivered();
}

/** The invocation is over: a pull still waiting will never be answered. */
export function forgetBody(id: number): void {
  delete pulls[id];
}
