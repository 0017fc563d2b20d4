/**
 * Workers' `ReadableStreamBYOBReader.prototype.readAtLeast(minBytes, view)`
 * (https://developers.cloudflare.com/workers/runtime-apis/streams/readablestreambyobreader/): BYOB reads
 * into `view`'s buffer until at least `minBytes` are in it, or the stream ends. The answer is a view of
 * the same kind over what was read (the buffer is transferred, as with read()); `done` only when the
 * stream ended with nothing read.
 */
import { ArrayBufferIsView, MathCeil, MathTrunc } from '../primordials.ts';

type View = ArrayBufferView & { BYTES_PER_ELEMENT?: number };
type ViewConstructor = new (buffer: ArrayBufferLike, byteOffset: number, length: number) => View;
type ByobRead = (reader: object, view: View) => Promise<{ value: View | undefined; done: boolean }>;

/** readAtLeast for readers whose read() is `read` (captured when the streams chunk loads). */
export function readAtLeastWith(read: ByobRead): (this: object, minBytes: unknown, view: unknown) => Promise<{ value: View | undefined; done: boolean }> {
  return async function readAtLeast(this: object, minBytes: unknown, view: unknown) {
    if (!ArrayBufferIsView(view)) throw new TypeError('readAtLeast() needs an ArrayBufferView to read into.');
    const bytes = (view as View).byteLength;
    const min = +(minBytes as number);
    if (MathTrunc(min) !== min || min < 1 || min > bytes) {
      throw new TypeError(`readAtLeast() needs a minimum of 1 to ${bytes} bytes (the view's length), not ${String(minBytes)}.`);
    }
    return await fill(this, read, view as View, min);
  };
}

async function fill(reader: object, read: ByobRead, view: View, min: number): Promise<{ value: View | undefined; done: boolean }> {
  // A DataView reads and answers in bytes; a typed array in its own elements.
  const size = view.BYTES_PER_ELEMENT ?? 1;
  const Kind = view.constructor as ViewConstructor;
  const offset = view.byteOffset;
  const total = view.byteLength / size;
  const wanted = MathCeil(min / size);
  let buffer = view.buffer;
  let filled = 0;
  while (filled < wanted) {
    const result = await read(reader, new Kind(buffer, offset + filled * size, total - filled));
    if (result.value !== undefined) {
      buffer = result.value.buffer;
      filled += result.value.byteLength / size;
    }
    if (result.done) return { value: new Kind(buffer, offset, filled), done: filled === 0 };
  }
  return { value: new Kind(buffer, offset, filled), done: false };
}
