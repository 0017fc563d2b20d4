/**
 * The `crypto` global (https://w3c.github.io/webcrypto/#crypto-interface): getRandomValues(), randomUUID()
 * and `subtle`. Random bytes come from the host's CSPRNG (runtime/crypto/random.ts). crypto.subtle is in
 * runtime/crypto/: digest, HMAC, AES-GCM/CBC, ECDSA, RSASSA-PKCS1-v1_5 and RSA-PSS, done by the host
 * (bridge ops 'digest' and 'subtle'); keys carry their own material, the host keeps no state per key.
 * Loading this module also installs the CryptoKey global.
 */
import { CryptoKey } from '../crypto/key.ts';
import { fillRandom } from '../crypto/random.ts';
import { loadSubtleCrypto, type SubtleCrypto } from '../crypto/subtle-crypto.ts';
import { loadDigestStream } from '../workers/digest-stream.ts';
import { DOMException } from './dom-exception.ts';
import { defineGlobal, nameClass } from './define.ts';
import {
  NumberPrototypeToString,
  ObjectCreate,
  StringPrototypeSlice,
  TypedArrayPrototypeGetBuffer,
  TypedArrayPrototypeGetByteLength,
  TypedArrayPrototypeGetByteOffset,
  TypedArrayPrototypeGetSymbolToStringTag,
  Uint8ArrayCtor,
} from '../primordials.ts';

export { CryptoKey };

const MAX_BYTES = 65536;
const INTEGER_ARRAYS: Record<string, true | undefined> = {
  __proto__: null,
  Int8Array: true, Uint8Array: true, Uint8ClampedArray: true, Int16Array: true, Uint16Array: true,
  Int32Array: true, Uint32Array: true, BigInt64Array: true, BigUint64Array: true,
} as unknown as Record<string, true | undefined>;

let subtle: SubtleCrypto | null = null;

export class Crypto {
  constructor() {
    throw new TypeError('Illegal constructor');
  }

  /** Made on first use; its methods make the web-crypto chunk on their first call (runtime/crypto/subtle-crypto.ts). */
  get subtle(): SubtleCrypto {
    if (subtle === null) subtle = ObjectCreate(loadSubtleCrypto().SubtleCrypto.prototype) as SubtleCrypto;
    return subtle;
  }

  /** Workers' extension: the constructor of a WritableStream that hashes what is written (made on first use). */
  get DigestStream(): Function {
    return loadDigestStream();
  }

  getRandomValues<T extends ArrayBufferView>(array: T): T {
    // WebIDL: a required argument.
    if (arguments.length === 0) throw new TypeError("Failed to execute 'getRandomValues' on 'Crypto': 1 argument required, but only 0 present.");
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
    fillRandom(new Uint8ArrayCtor(TypedArrayPrototypeGetBuffer(array) as ArrayBuffer, TypedArrayPrototypeGetByteOffset(array), length));
    return array;
  }

  // https://w3c.github.io/webcrypto/#Crypto-method-randomUUID: version 4, variant 10.
  randomUUID(): string {
    const bytes = new Uint8ArrayCtor(16);
    fillRandom(bytes);
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

// Not in runtime/index.ts's list of globals: installed here, with the module that defines it.
defineGlobal('CryptoKey', CryptoKey);
