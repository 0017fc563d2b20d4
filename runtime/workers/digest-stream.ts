/**
 * Workers' `crypto.DigestStream` (https://developers.cloudflare.com/workers/runtime-apis/web-crypto/#constructors):
 * a WritableStream of bytes whose `digest` promise settles with the hash of everything written once it
 * closes (or rejects when it is aborted). The host hashes each chunk as it comes (bridge op
 * 'digestStream'), so a stream of any length costs no memory here. SHA-1/256/384/512 and MD5. Built on
 * the streams chunk's WritableStream when first used.
 */
import { hostDigestStreamCreate, hostDigestStreamDrop, hostDigestStreamFinish, hostDigestStreamUpdate } from '../bridge.ts';
import { loadWebCrypto } from '../crypto/web-crypto.ts';
import { bufferSourceBytes, copyBytes } from '../encoding/buffer-source.ts';
import { setName } from '../global/define.ts';
import { PromiseCtor, PromisePrototypeThen, TypedArrayPrototypeGetBuffer } from '../primordials.ts';
import { loadStreams } from '../streams/web-streams.ts';

let DigestStream: Function | null = null;

export function loadDigestStream(): Function {
  if (DigestStream !== null) return DigestStream;
  const WritableStream = loadStreams().api.WritableStream as unknown as new (sink: object) => object;
  const { normalizeAlgorithm } = loadWebCrypto();

  class Stream extends WritableStream {
    readonly #digest: Promise<ArrayBuffer>;

    constructor(algorithm: unknown) {
      const name = normalizeAlgorithm(algorithm, 'digest').name;
      const id = hostDigestStreamCreate(name);
      if (id === null) throw new TypeError('Too many DigestStreams are open in this isolate.');
      let resolve!: (digest: ArrayBuffer) => void;
      let reject!: (reason: unknown) => void;
      const digest = new PromiseCtor<ArrayBuffer>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      super({
        write(chunk: unknown) {
          const bytes = bufferSourceBytes(chunk, false);
          if (bytes === null) throw new TypeError('DigestStream is a byte stream: write ArrayBuffers or ArrayBufferViews.');
          hostDigestStreamUpdate(id, TypedArrayPrototypeGetBuffer(copyBytes(bytes)) as ArrayBuffer);
        },
        close() {
          resolve(hostDigestStreamFinish(id)!);
        },
        abort(reason: unknown) {
          hostDigestStreamDrop(id);
          reject(reason);
        },
      });
      // A digest nobody awaits is not an unhandled rejection when the stream is aborted.
      PromisePrototypeThen(digest, undefined, () => {});
      this.#digest = digest;
    }

    get digest(): Promise<ArrayBuffer> {
      return this.#digest;
    }
  }

  setName(Stream, 'DigestStream');
  DigestStream = Stream;
  return Stream;
}
