/**
 * crypto.getRandomValues() and crypto.randomUUID() (https://w3c.github.io/webcrypto/#Crypto-method-getRandomValues).
 * Random bytes come from the host's CSPRNG (bridge op 'randomBytes'), fetched in blocks so most calls
 * cost no bridge crossing. crypto.subtle has digest() only for now (SHA-1/256/384/512, computed by the
 * host, bridge op 'digest'): enough for ETags and hashing; keys, signing and ciphers are still to come.
 */
import { hostDigest, hostRandomBytes } from '../bridge.ts';
import { bufferSourceBytes, copyBytes } from '../encoding/buffer-source.ts';
import { DOMException } from './dom-exception.ts';
import { nameClass } from './define.ts';
import {
  NumberPrototypeToString,
  ObjectCreate,
  PromiseCtor,
  StringPrototypeToUpperCase,
  StringPrototypeSlice,
  TypedArrayPrototypeGetBuffer,
  TypedArrayPrototypeGetByteLength,
  TypedArrayPrototypeGetByteOffset,
  TypedArrayPrototypeGetSymbolToStringTag,
  Uint8ArrayCtor,
} from '../primordials.ts';

const BLOCK_BYTES = 4096;
const MAX_BYTES = 65536;
const INTEGER_ARRAYS: Record<string, true | undefined> = {
  __proto__: null,
  Int8Array: true, Uint8Array: true, Uint8ClampedArray: true, Int16Array: true, Uint16Array: true,
  Int32Array: true, Uint32Array: true, BigInt64Array: true, BigUint64Array: true,
} as unknown as Record<string, true | undefined>;

let block = new Uint8ArrayCtor(0);
let used = 0;

function fill(target: Uint8Array): void {
  let offset = 0;
  while (offset < target.length) {
    if (used === block.length) {
      block = new Uint8ArrayCtor(hostRandomBytes(BLOCK_BYTES));
      used = 0;
    }
    const take = Math.min(target.length - offset, block.length - used);
    for (let i = 0; i < take; i++) target[offset + i] = block[used + i]!;
    // Bytes handed out are never handed out again.
    for (let i = 0; i < take; i++) block[used + i] = 0;
    used += take;
    offset += take;
  }
}

const DIGEST_NAMES: Record<string, string | undefined> = {
  __proto__: null,
  'SHA-1': 'SHA-1', 'SHA-256': 'SHA-256', 'SHA-384': 'SHA-384', 'SHA-512': 'SHA-512',
} as unknown as Record<string, string | undefined>;

export class SubtleCrypto {
  constructor() {
    throw new TypeError('Illegal constructor');
  }

  // https://w3c.github.io/webcrypto/#SubtleCrypto-method-digest
  digest(algorithm: unknown, data: unknown): Promise<ArrayBuffer> {
    return new PromiseCtor((resolve, reject) => {
      // 2. Normalize the algorithm: a name, or an object with a name; names are case-insensitive.
      const given = typeof algorithm === 'string' ? algorithm : (algorithm as { name?: unknown } | null)?.name;
      const name = typeof given === 'string' ? DIGEST_NAMES[StringPrototypeToUpperCase(given)] : undefined;
      if (name === undefined) {
        reject(new DOMException('Unrecognized algorithm name', 'NotSupportedError'));
        return;
      }
      // 1. A copy of the bytes held by data.
      const bytes = bufferSourceBytes(data, false);
      if (bytes === null) {
        reject(new TypeError("Failed to execute 'digest' on 'SubtleCrypto': parameter 2 is not of type 'BufferSource'."));
        return;
      }
      resolve(hostDigest(name, copyBytes(bytes).buffer));
    });
  }
}
nameClass(SubtleCrypto, 'SubtleCrypto');

const subtle: SubtleCrypto = ObjectCreate(SubtleCrypto.prototype) as SubtleCrypto;

export class Crypto {
  constructor() {
    throw new TypeError('Illegal constructor');
  }

  get subtle(): SubtleCrypto {
    return subtle;
  }

  getRandomValues<T extends ArrayBufferView>(array: T): T {
    // 1. An integer-typed array, else TypeMismatchError.
    const tag = TypedArrayPrototypeGetSymbolToStringTag(array);
    if (tag === undefined || INTEGER_ARRAYS[tag] !== true) {
      throw new DOMException("Failed to execute 'getRandomValues' on 'Crypto': The provided ArrayBufferView is not an integer array type.", 'TypeMismatchError');
    }
    // 2. At most 65536 bytes, else QuotaExceededError.
    const length = TypedArrayPrototypeGetByteLength(array);
    if (length > MAX_BYTES) {
      throw new DOMException(`Failed to execute 'getRandomValues' on 'Crypto': The ArrayBufferView's byte length (${length}) exceeds the number of bytes of entropy available via this API (${MAX_BYTES}).`, 'QuotaExceededError');
    }
    fill(new Uint8ArrayCtor(TypedArrayPrototypeGetBuffer(array) as ArrayBuffer, TypedArrayPrototypeGetByteOffset(array), length));
    return array;
  }

  // https://w3c.github.io/webcrypto/#Crypto-method-randomUUID: version 4, variant 10.
  randomUUID(): string {
    const bytes = new Uint8ArrayCtor(16);
    fill(bytes);
    bytes[6] = (bytes[6]! & 0x0f) | 0x40;
    bytes[8] = (bytes[8]! & 0x3f) | 0x80;
    let hex = '';
    for (let i = 0; i < 16; i++) {
      hex += StringPrototypeSlice(NumberPrototypeToString(bytes[i]! + 0x100, 16), 1);
      if (i === 3 || i === 5 || i === 7 || i === 9) hex += '-';
    }
    return hex;
  }
}
nameClass(Crypto, 'Crypto');

/** The `crypto` global: an instance made without running the throwing constructor. */
export const crypto: Crypto = ObjectCreate(Crypto.prototype) as Crypto;
