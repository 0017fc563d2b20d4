/**
 * A response the worker labels `Content-Encoding: gzip` (or `deflate`) is compressed on its way out,
 * as workerd does by default: code that sets the header on plain bytes (the usual way to ask Workers
 * to compress) would otherwise send clients plain bytes labelled gzip, which they fail to decode.
 * `new Response(body, { encodeBody: 'manual' })` says the bytes are encoded already, as on Workers.
 * Compression runs in the isolate (CompressionStream), on the worker's CPU and under its limit. `br`
 * has no compressor here: its label is dropped, so the client gets valid, uncompressed bytes.
 */
import { loadCompression } from '../compression/compression-streams.ts';
import { utf8Encode } from '../encoding/utf8.ts';
import type { BridgeBody, HeaderList } from '../host.d.ts';
import { StringPrototypeToLowerCase, StringPrototypeTrim, Uint8ArrayCtor, WeakSetCtor, WeakSetPrototypeAdd, WeakSetPrototypeHas } from '../primordials.ts';
import { streamFromBytes } from '../streams/stream-from-bytes.ts';
import { type ReadableStream, loadStreams } from '../streams/web-streams.ts';

/** Responses made with `encodeBody: 'manual'`. */
const manual = new WeakSetCtor<object>();

/**
 * `init` with `encodeBody: 'manual'`, or a response so made (as workerd's constructor copies the body
 * encoding of a Response passed as init: Hono's `c.header()` after `next()` remakes the response as
 * `new Response(res.body, res)`, and an encoded asset was compressed a second time).
 */
export function markEncodeBodyManual(response: object, init: unknown): void {
  if (typeof init !== 'object' || init === null) return;
  if ((init as { encodeBody?: unknown }).encodeBody === 'manual' || WeakSetPrototypeHas(manual, init)) WeakSetPrototypeAdd(manual, response);
}

export interface OutgoingBody {
  headers: HeaderList;
  body: BridgeBody;
  stream: ReadableStream<unknown> | null;
}

/** The body as it goes out: compressed if its headers ask for gzip or deflate. */
export function encodeForClient(response: object, out: OutgoingBody): OutgoingBody {
  const headers = out.headers;
  let at = -1;
  for (let i = 0; i < headers.length; i += 2) if (headers[i] === 'content-encoding') at = at === -1 ? i : -2;
  if (at < 0 || WeakSetPrototypeHas(manual, response)) return out;
  const encoding = StringPrototypeToLowerCase(StringPrototypeTrim(headers[at + 1]!));
  if (encoding !== 'gzip' && encoding !== 'deflate' && encoding !== 'br') return out;
  if (out.body === null && out.stream === null) return out;
  const kept: HeaderList = [];
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]!;
    // The length is the plain body's; a br label cannot be honoured.
    if (name === 'content-length' || (encoding === 'br' && name === 'content-encoding')) continue;
    kept[kept.length] = name;
    kept[kept.length] = headers[i + 1]!;
  }
  if (encoding === 'br') return { headers: kept, body: out.body, stream: out.stream };
  const source = out.stream ?? streamFromBytes(typeof out.body === 'string' ? utf8Encode(out.body) : new Uint8ArrayCtor(out.body!));
  const { CompressionStream } = loadCompression();
  const compressor = new CompressionStream(encoding) as unknown as Parameters<ReturnType<typeof loadStreams>['pipeThrough']>[1];
  return { headers: kept, body: null, stream: loadStreams().pipeThrough(source as never, compressor) };
}
