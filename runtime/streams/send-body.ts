/**
 * A response body stream sent to the host chunk by chunk as the worker produces it: each chunk is one
 * host('chunk') call, which answers whether the host wants more right now. When it says no (the client
 * reads slower than the worker writes), reading pauses until dispatch('pull', id): the worker's stream
 * then fills up and its producer sees the backpressure (desiredSize, pull not called).
 */
import { hostChunk, hostEndBody } from '../bridge.ts';
import { copyBytes } from '../encoding/buffer-source.ts';
import {
  ObjectCreate,
  PromisePrototypeThen,
  TypedArrayPrototypeGetBuffer,
  TypedArrayPrototypeGetByteLength,
  TypedArrayPrototypeGetSymbolToStringTag,
} from '../primordials.ts';
import { type ReadableStream, loadStreams } from './web-streams.ts';

/** Reading paused by the host, by invocation id: dispatch('pull') resumes it. */
const paused: Record<number, (() => void) | undefined> = ObjectCreate(null);

/**
 * Sends `stream` as invocation `id`'s body, then host('endBody'). `stopped` is asked before each read:
 * once it says true the stream is cancelled. `finished` is called once: with null after the last chunk,
 * with the error when the stream errored or produced something that is not a Uint8Array.
 */
export function sendBody(id: number, stream: ReadableStream<unknown>, stopped: () => boolean, finished: (error: unknown) => void): void {
  const streams = loadStreams();
  const reader = streams.getReader(stream);
  const step = (): void => {
    if (stopped()) {
      PromisePrototypeThen(streams.cancel(reader), undefined, () => {});
      return;
    }
    PromisePrototypeThen(
      streams.read(reader),
      (result) => {
        if (stopped()) {
          PromisePrototypeThen(streams.cancel(reader), undefined, () => {});
          return;
        }
        if (result.done) {
          hostEndBody(id);
          finished(null);
          return;
        }
        const chunk = result.value;
        if (TypedArrayPrototypeGetSymbolToStringTag(chunk) !== 'Uint8Array') {
          const error = new TypeError('The body stream produced a chunk that is not a Uint8Array.');
          PromisePrototypeThen(streams.cancel(reader, error), undefined, () => {});
          finished(error);
          return;
        }
        if (TypedArrayPrototypeGetByteLength(chunk as Uint8Array) === 0) {
          step();
          return;
        }
        // A copy: the worker may reuse the chunk's buffer once it is enqueued, and the bridge copies
        // only whole ArrayBuffers.
        const wantsMore = hostChunk(id, TypedArrayPrototypeGetBuffer(copyBytes(chunk as Uint8Array)) as ArrayBuffer);
        if (wantsMore) step();
        else paused[id] = step;
      },
      finished,
    );
  };
  step();
}

/** dispatch('pull'): the host has room again for invocation `id`'s body. */
export function resumeBody(id: number): void {
  const step = paused[id];
  if (step === undefined) return;
  delete paused[id];
  step();
}

/** The invocation is over: a paused body is never resumed (its stream is left to the garbage collector). */
export function forgetPausedBody(id: number): void {
  delete paused[id];
}
