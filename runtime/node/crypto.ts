/**
 * `node:crypto` for workers with the nodejs_compat flag: the synchronous hashing, HMAC and randomness
 * npm code written for Node uses (createHash, createHmac, randomBytes, randomInt, randomUUID,
 * timingSafeEqual), plus Web Crypto as `webcrypto` / `subtle`. Built as the `node-crypto` chunk; the
 * runtime hands it the host's digest and HMAC and its own randomness (runtime/node/modules.ts), so
 * the hashing is node:crypto's on the host, in one bridge call per digest.
 */

export interface CryptoPlatform {
  /** The digest of `data` with a Web Crypto name (SHA-1, SHA-256, SHA-384, SHA-512, MD5). */
  digest(algorithm: string, data: Uint8Array): ArrayBuffer;
  /** HMAC of `data` under `key` with a Web Crypto hash name (SHA family). */
  hmac(hash: string, key: Uint8Array, data: Uint8Array): ArrayBuffer;
  fillRandom(target: Uint8Array): void;
  randomUUID(): string;
  Buffer: BufferClass;
  webcrypto: { subtle: unknown; getRandomValues(target: ArrayBufferView): ArrayBufferView };
}

interface NodeBuffer extends Uint8Array {
  toString(encoding?: string): string;
}

interface BufferClass {
  from(data: string, encoding?: string): NodeBuffer;
  from(data: ArrayBuffer, byteOffset?: number, length?: number): NodeBuffer;
  concat(list: readonly Uint8Array[], totalLength?: number): NodeBuffer;
  isEncoding(encoding: string): boolean;
}

type Input = string | ArrayBufferView | ArrayBuffer;

/** Node's names (any case, with or without the dash, RSA- prefixed) → Web Crypto's. */
const HASHES: Record<string, string> = {
  md5: 'MD5',
  sha1: 'SHA-1',
  sha256: 'SHA-256',
  sha384: 'SHA-384',
  sha512: 'SHA-512',
};

function webName(algorithm: unknown, hmac: boolean): string {
  const key = String(algorithm).toLowerCase().replace(/^rsa-/, '').replace('-', '');
  const name = Object.hasOwn(HASHES, key) ? HASHES[key] : undefined;
  if (name === undefined || (hmac && name === 'MD5')) {
    throw Object.assign(new Error(`Digest method not supported: ${String(algorithm)} (here: ${hmac ? 'sha1, sha256, sha384, sha512' : 'md5, sha1, sha256, sha384, sha512'})`), { code: 'ERR_CRYPTO_INVALID_DIGEST' });
  }
  return name;
}

export function makeCrypto(platform: CryptoPlatform): Record<string, unknown> {
  const { Buffer } = platform;

  function bytes(data: Input, encoding?: string): Uint8Array {
    if (typeof data === 'string') return Buffer.from(data, encoding ?? 'utf8');
    if (data instanceof ArrayBuffer) return new Uint8Array(data);
    if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    throw Object.assign(new TypeError('The "data" argument must be of type string or an instance of Buffer, TypedArray, DataView or ArrayBuffer'), { code: 'ERR_INVALID_ARG_TYPE' });
  }

  function output(result: ArrayBuffer, encoding?: string): NodeBuffer | string {
    const buffer = Buffer.from(result);
    return encoding === undefined || encoding === 'buffer' ? buffer : buffer.toString(encoding);
  }

  /** Updates are kept and hashed in one host call at digest(): most hashes see one or two updates. */
  class Digest {
    #parts: Uint8Array[] = [];
    #done = false;

    update(data: Input, inputEncoding?: string): this {
      if (this.#done) throw Object.assign(new Error('Digest already called'), { code: 'ERR_CRYPTO_HASH_FINALIZED' });
      // Copied: the caller may change its buffer before digest().
      this.#parts.push(Uint8Array.prototype.slice.call(bytes(data, inputEncoding)));
      return this;
    }

    protected finish(): Uint8Array {
      if (this.#done) throw Object.assign(new Error('Digest already called'), { code: 'ERR_CRYPTO_HASH_FINALIZED' });
      this.#done = true;
      return this.#parts.length === 1 ? this.#parts[0]! : Buffer.concat(this.#parts);
    }

    protected get parts(): Uint8Array[] {
      return this.#parts;
    }
  }

  class Hash extends Digest {
    readonly #algorithm: string;

    constructor(algorithm: string) {
      super();
      this.#algorithm = webName(algorithm, false);
    }

    digest(encoding?: string): NodeBuffer | string {
      return output(platform.digest(this.#algorithm, this.finish()), encoding);
    }

    copy(): Hash {
      const copy = new Hash(this.#algorithm.replace('-', ''));
      for (const part of this.parts) copy.update(part);
      return copy;
    }
  }

  class Hmac extends Digest {
    readonly #hash: string;
    readonly #key: Uint8Array;

    constructor(algorithm: string, key: Input, keyEncoding?: string) {
      super();
      this.#hash = webName(algorithm, true);
      const keyBytes = Uint8Array.prototype.slice.call(bytes(key, keyEncoding));
      // HMAC pads a short key with zeros to the block size: an empty key is the same as one zero byte,
      // which Web Crypto, unlike Node, accepts.
      this.#key = keyBytes.length === 0 ? new Uint8Array(1) : keyBytes;
    }

    digest(encoding?: string): NodeBuffer | string {
      return output(platform.hmac(this.#hash, this.#key, this.finish()), encoding);
    }
  }

  function randomBytes(size: number, callback?: (err: Error | null, buf: NodeBuffer) => void): NodeBuffer | undefined {
    if (!Number.isInteger(size) || size < 0 || size > 2 ** 31 - 1) {
      throw Object.assign(new RangeError(`The value of "size" is out of range. It must be >= 0 && <= 2147483647. Received ${String(size)}`), { code: 'ERR_OUT_OF_RANGE' });
    }
    const buffer = Buffer.from(new ArrayBuffer(size));
    platform.fillRandom(buffer);
    if (callback === undefined) return buffer;
    Promise.resolve().then(() => callback(null, buffer));
    return undefined;
  }

  /** A uniform integer in [min, max), without modulo bias. */
  function randomInt(min: number, max?: number): number {
    if (max === undefined) [min, max] = [0, min];
    if (!Number.isSafeInteger(min) || !Number.isSafeInteger(max) || max <= min || max - min > 2 ** 48) {
      throw Object.assign(new RangeError('randomInt: min and max must be safe integers with min < max and max - min <= 2 ** 48'), { code: 'ERR_OUT_OF_RANGE' });
    }
    const range = max - min;
    const limit = 2 ** 48 - (2 ** 48 % range);
    const six = new Uint8Array(6);
    for (;;) {
      platform.fillRandom(six);
      const value = six.reduce((n, byte) => n * 256 + byte, 0);
      if (value < limit) return min + (value % range);
    }
  }

  function timingSafeEqual(a: ArrayBufferView | ArrayBuffer, b: ArrayBufferView | ArrayBuffer): boolean {
    const x = bytes(a);
    const y = bytes(b);
    if (x.length !== y.length) throw Object.assign(new RangeError('Input buffers must have the same byte length'), { code: 'ERR_CRYPTO_TIMING_SAFE_EQUAL_LENGTH' });
    let diff = 0;
    for (let i = 0; i < x.length; i++) diff |= x[i]! ^ y[i]!;
    return diff === 0;
  }

  return {
    createHash: (algorithm: string) => new Hash(algorithm),
    createHmac: (algorithm: string, key: Input, options?: { encoding?: string }) => new Hmac(algorithm, key, options?.encoding),
    getHashes: () => ['md5', 'sha1', 'sha256', 'sha384', 'sha512'],
    randomBytes,
    randomInt,
    randomUUID: () => platform.randomUUID(),
    getRandomValues: (target: ArrayBufferView) => platform.webcrypto.getRandomValues(target),
    timingSafeEqual,
    webcrypto: platform.webcrypto,
    subtle: platform.webcrypto.subtle,
  };
}
