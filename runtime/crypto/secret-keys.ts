/**
 * Secret keys: HMAC (https://w3c.github.io/webcrypto/#hmac) and AES-GCM / AES-CBC / AES-CTR / AES-KW
 * (https://w3c.github.io/webcrypto/#aes-gcm). Their import, export and generation need no host: the
 * key is its bytes (random ones from the host's CSPRNG for generateKey), kept in the CryptoKey.
 */
import { copyBytes } from '../encoding/buffer-source.ts';
import { StringPrototypeSlice, TypedArrayPrototypeGetBuffer, TypedArrayPrototypeGetLength, Uint8ArrayCtor } from '../primordials.ts';
import type { Algorithm, HashName } from './algorithms.ts';
import { base64urlDecode, base64urlEncode } from './base64url.ts';
import { fail } from './errors.ts';
import { type JsonWebKey, checkJwk } from './jwk.ts';
import { type CryptoKey, type KeyAlgorithm, type KeySlots, type Usages, checkUsages, createKey, usageList, usageMask } from './key.ts';
import { fillRandom } from './random.ts';

export type KeyFormat = 'raw' | 'spki' | 'pkcs8' | 'jwk';

const HMAC_USAGES = usageMask('sign', 'verify');
const AES_USAGES = usageMask('encrypt', 'decrypt', 'wrapKey', 'unwrapKey');
const AES_KW_USAGES = usageMask('wrapKey', 'unwrapKey');

/** JWK "alg" of an HMAC key per hash. */
const HMAC_JWK_ALG: Record<HashName, string> = { __proto__: null, 'SHA-1': 'HS1', 'SHA-256': 'HS256', 'SHA-384': 'HS384', 'SHA-512': 'HS512' } as unknown as Record<HashName, string>;
/** HMAC's default key length: the hash's block size, in bits. */
const BLOCK_BITS: Record<HashName, number> = { __proto__: null, 'SHA-1': 512, 'SHA-256': 512, 'SHA-384': 1024, 'SHA-512': 1024 } as unknown as Record<HashName, number>;

export function isSecretAlgorithm(name: string): boolean {
  return name === 'HMAC' || name === 'AES-GCM' || name === 'AES-CBC' || name === 'AES-CTR' || name === 'AES-KW' || isDerivationAlgorithm(name);
}

/** PBKDF2 and HKDF: their keys are secrets only deriveBits and deriveKey use. */
export function isDerivationAlgorithm(name: string): boolean {
  return name === 'PBKDF2' || name === 'HKDF';
}

const DERIVE_USAGES = usageMask('deriveKey', 'deriveBits');

/** JWK "alg" of an AES key: A128GCM, A256CBC, A192CTR, A128KW. */
function aesJwkAlg(name: string, bits: number): string {
  return `A${bits}${StringPrototypeSlice(name, 4)}`;
}

function ownBuffer(bytes: Uint8Array): ArrayBuffer {
  return TypedArrayPrototypeGetBuffer(copyBytes(bytes)) as ArrayBuffer;
}

/** The key bytes of a `raw` or `jwk` import (the format was checked by the caller). */
function secretBytes(format: KeyFormat, keyData: Uint8Array | JsonWebKey, usages: Usages, extractable: boolean, use: 'sig' | 'enc'): Uint8Array {
  if (format === 'raw') return keyData as Uint8Array;
  const jwk = keyData as JsonWebKey;
  checkJwk(jwk, 'oct', use, usages, extractable);
  if (jwk.k === undefined) fail('DataError', 'The JWK "k" member was missing');
  const bytes = base64urlDecode(jwk.k);
  if (bytes === null) fail('DataError', 'The JWK "k" member is not valid base64url');
  return bytes;
}

// https://w3c.github.io/webcrypto/#hmac-operations-import-key, #aes-gcm-operations-import-key
export function importSecretKey(
  format: KeyFormat,
  keyData: Uint8Array | JsonWebKey,
  algorithm: Algorithm,
  extractable: boolean,
  usages: Usages,
): CryptoKey {
  const name = algorithm.name;
  if (isDerivationAlgorithm(name)) {
    // https://w3c.github.io/webcrypto/#pbkdf2-operations-import-key, #hkdf-operations-import-key
    if (format !== 'raw') fail('NotSupportedError', `Unsupported key format '${format}' for ${name}`);
    checkUsages(usages, DERIVE_USAGES);
    if (extractable) fail('SyntaxError', `${name} keys cannot be extractable`);
    return createKey('secret', false, { __proto__: null, name } as unknown as KeyAlgorithm, usages, ownBuffer(keyData as Uint8Array), null);
  }
  const hmac = name === 'HMAC';
  checkUsages(usages, hmac ? HMAC_USAGES : name === 'AES-KW' ? AES_KW_USAGES : AES_USAGES);
  if (format !== 'raw' && format !== 'jwk') fail('NotSupportedError', `Unsupported key format '${format}' for ${name}`);
  const bytes = secretBytes(format, keyData, usages, extractable, hmac ? 'sig' : 'enc');
  const bits = TypedArrayPrototypeGetLength(bytes) * 8;
  const keyAlgorithm = { __proto__: null, name } as unknown as KeyAlgorithm;
  const jwkAlg = format === 'jwk' ? (keyData as JsonWebKey).alg : undefined;
  if (hmac) {
    const hash = algorithm.hash!;
    if (bits === 0) fail('DataError', 'HMAC key data must not be empty');
    let length = bits;
    if (algorithm.length !== undefined) {
      // The length may only drop bits of the last byte.
      if (algorithm.length > bits || algorithm.length <= bits - 8) fail('DataError', 'The HMAC key length does not match the key data');
      length = algorithm.length;
    }
    if (jwkAlg !== undefined && jwkAlg !== HMAC_JWK_ALG[hash]) fail('DataError', `The JWK "alg" member was not "${HMAC_JWK_ALG[hash]}"`);
    keyAlgorithm.hash = hash;
    keyAlgorithm.length = length;
  } else {
    if (bits !== 128 && bits !== 192 && bits !== 256) fail('DataError', 'AES key data must be 128, 192 or 256 bits');
    if (jwkAlg !== undefined && jwkAlg !== aesJwkAlg(name, bits)) fail('DataError', `The JWK "alg" member was not "${aesJwkAlg(name, bits)}"`);
    keyAlgorithm.length = bits;
  }
  return createKey('secret', extractable, keyAlgorithm, usages, ownBuffer(bytes), null);
}

// https://w3c.github.io/webcrypto/#hmac-operations-export-key
export function exportSecretKey(format: KeyFormat, key: KeySlots): ArrayBuffer | object {
  const bytes = new Uint8ArrayCtor(key.secret!);
  if (format === 'raw') return ownBuffer(bytes);
  if (format !== 'jwk') fail('NotSupportedError', `Unsupported key format '${format}' for ${key.algorithm.name}`);
  const name = key.algorithm.name;
  const alg = name === 'HMAC' ? HMAC_JWK_ALG[key.algorithm.hash!] : aesJwkAlg(name, key.algorithm.length!);
  return { kty: 'oct', k: base64urlEncode(bytes), alg, key_ops: usageList(key.usages), ext: key.extractable };
}

/** https://w3c.github.io/webcrypto/#dfn-get-key-length: the bits deriveKey derives for `algorithm`'s key. */
export function keyLength(algorithm: Algorithm): number {
  if (algorithm.name !== 'HMAC') {
    const length = algorithm.length!;
    if (length !== 128 && length !== 192 && length !== 256) fail('OperationError', 'AES key length must be 128, 192 or 256 bits');
    return length;
  }
  if (algorithm.length === undefined) return BLOCK_BITS[algorithm.hash!];
  if (algorithm.length === 0) throw new TypeError('HMAC key length must not be zero');
  return algorithm.length;
}

// https://w3c.github.io/webcrypto/#hmac-operations-generate-key, #aes-gcm-operations-generate-key
export function generateSecretKey(algorithm: Algorithm, extractable: boolean, usages: Usages): CryptoKey {
  const name = algorithm.name;
  const keyAlgorithm = { __proto__: null, name } as unknown as KeyAlgorithm;
  let length: number;
  if (name === 'HMAC') {
    checkUsages(usages, HMAC_USAGES);
    length = algorithm.length === undefined ? BLOCK_BITS[algorithm.hash!] : algorithm.length;
    if (length === 0) fail('OperationError', 'HMAC key length must not be zero');
    if (length > 65536) fail('OperationError', 'HMAC key length must be at most 65536 bits');
    keyAlgorithm.hash = algorithm.hash!;
  } else {
    checkUsages(usages, name === 'AES-KW' ? AES_KW_USAGES : AES_USAGES);
    length = algorithm.length!;
    if (length !== 128 && length !== 192 && length !== 256) fail('OperationError', 'AES key length must be 128, 192 or 256 bits');
  }
  keyAlgorithm.length = length;
  const byteLength = (length + 7) >> 3;
  const bytes = new Uint8ArrayCtor(byteLength);
  fillRandom(bytes);
  // Bits past `length` in the last byte are zero.
  if ((length & 7) !== 0) bytes[byteLength - 1] &= (0xff << (8 - (length & 7))) & 0xff;
  return createKey('secret', extractable, keyAlgorithm, usages, TypedArrayPrototypeGetBuffer(bytes) as ArrayBuffer, null);
}
