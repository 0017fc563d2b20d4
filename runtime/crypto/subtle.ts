/**
 * SubtleCrypto (https://w3c.github.io/webcrypto/#subtlecrypto-interface). Every method returns a promise:
 * argument conversion errors (TypeError) and the operation's own errors (DOMException) reject it. The
 * work itself is one synchronous host call (bridge op 'subtle', or 'digest'); the promise is settled
 * when the method returns. wrapKey and unwrapKey are exportKey then encrypt, and decrypt then importKey
 * (or AES-KW's own wrap).
 */
import { hostDigest } from '../bridge.ts';
import { utf8Decode, utf8Encode } from '../encoding/utf8.ts';
import { bufferSourceBytes, copyBytes } from '../encoding/buffer-source.ts';
import { nameClass } from '../global/define.ts';
import { JSONParse, JSONStringify, MathTrunc, NumberIsFinite, PromiseCtor, TypedArrayPrototypeGetBuffer, TypedArrayPrototypeGetByteLength, Uint8ArrayCtor } from '../primordials.ts';
import { type Algorithm, normalizeAlgorithm } from './algorithms.ts';
import { subtleCall } from './host-call.ts';
import { exportAsymmetricKey, generateKeyPair, hostAlgorithm, importAsymmetricKey, isAsymmetricAlgorithm, isKeyAgreement } from './asymmetric-keys.ts';
import { fail } from './errors.ts';
import { type JsonWebKey, toJsonWebKey } from './jwk.ts';
import { type CryptoKey, type KeySlots, hasUsage, keySlots, toUsages } from './key.ts';
import { checkKey, cipher, keyWrap, sign, verify } from './operations.ts';
import { type KeyFormat, exportSecretKey, generateSecretKey, importSecretKey, isSecretAlgorithm, keyLength } from './secret-keys.ts';

const FORMATS: Record<string, true | undefined> = { __proto__: null, raw: true, spki: true, pkcs8: true, jwk: true } as unknown as Record<string, true | undefined>;

/** Runs `body` and settles a native promise with its result or its exception. */
function settle<T>(body: () => T): Promise<T> {
  return new PromiseCtor<T>((resolve) => resolve(body()));
}

function requireArguments(given: number, required: number, method: string): void {
  if (given < required) {
    throw new TypeError(`Failed to execute '${method}' on 'SubtleCrypto': ${required} arguments required, but only ${given} present.`);
  }
}

/** A copy of a BufferSource argument's bytes, or TypeError. */
function bytesArgument(value: unknown, method: string, position: number): Uint8Array<ArrayBuffer> {
  const bytes = bufferSourceBytes(value, false);
  if (bytes === null) {
    throw new TypeError(`Failed to execute '${method}' on 'SubtleCrypto': parameter ${position} is not of type 'BufferSource'.`);
  }
  return copyBytes(bytes);
}

function formatArgument(value: unknown, method: string): KeyFormat {
  const format = `${value as string}`;
  if (FORMATS[format] !== true) {
    throw new TypeError(`Failed to execute '${method}' on 'SubtleCrypto': The provided value '${format}' is not a valid enum value of type KeyFormat.`);
  }
  return format as KeyFormat;
}

export class SubtleCrypto {
  constructor() {
    throw new TypeError('Illegal constructor');
  }

  // https://w3c.github.io/webcrypto/#SubtleCrypto-method-encrypt
  encrypt(algorithm: unknown, key: unknown, data: unknown): Promise<ArrayBuffer> {
    const count = arguments.length;
    return settle(() => {
      requireArguments(count, 3, 'encrypt');
      const slots = keySlots(key, 'encrypt', 2);
      const bytes = bytesArgument(data, 'encrypt', 3);
      return cipher('encrypt', normalizeAlgorithm(algorithm, 'encrypt'), slots, bytes);
    });
  }

  // https://w3c.github.io/webcrypto/#SubtleCrypto-method-decrypt
  decrypt(algorithm: unknown, key: unknown, data: unknown): Promise<ArrayBuffer> {
    const count = arguments.length;
    return settle(() => {
      requireArguments(count, 3, 'decrypt');
      const slots = keySlots(key, 'decrypt', 2);
      const bytes = bytesArgument(data, 'decrypt', 3);
      return cipher('decrypt', normalizeAlgorithm(algorithm, 'decrypt'), slots, bytes);
    });
  }

  // https://w3c.github.io/webcrypto/#SubtleCrypto-method-sign
  sign(algorithm: unknown, key: unknown, data: unknown): Promise<ArrayBuffer> {
    const count = arguments.length;
    return settle(() => {
      requireArguments(count, 3, 'sign');
      const slots = keySlots(key, 'sign', 2);
      const bytes = bytesArgument(data, 'sign', 3);
      return sign(normalizeAlgorithm(algorithm, 'sign'), slots, bytes);
    });
  }

  // https://w3c.github.io/webcrypto/#SubtleCrypto-method-verify
  verify(algorithm: unknown, key: unknown, signature: unknown, data: unknown): Promise<boolean> {
    const count = arguments.length;
    return settle(() => {
      requireArguments(count, 4, 'verify');
      const slots = keySlots(key, 'verify', 2);
      const signatureBytes = bytesArgument(signature, 'verify', 3);
      const bytes = bytesArgument(data, 'verify', 4);
      return verify(normalizeAlgorithm(algorithm, 'verify'), slots, signatureBytes, bytes);
    });
  }

  /**
   * Workers' extension: whether two buffers hold the same bytes, in time that depends on their length
   * only (webhook signature checks). Buffers of different lengths are a TypeError, as there.
   */
  timingSafeEqual(a: unknown, b: unknown): boolean {
    const left = bufferSourceBytes(a, false);
    const right = bufferSourceBytes(b, false);
    if (left === null || right === null) throw new TypeError("Failed to execute 'timingSafeEqual' on 'SubtleCrypto': the arguments must be ArrayBuffers or ArrayBufferViews.");
    const length = TypedArrayPrototypeGetByteLength(left);
    if (length !== TypedArrayPrototypeGetByteLength(right)) throw new TypeError('Input buffers must have the same length.');
    let difference = 0;
    for (let i = 0; i < length; i++) difference |= left[i]! ^ right[i]!;
    return difference === 0;
  }

  // https://w3c.github.io/webcrypto/#SubtleCrypto-method-digest
  digest(algorithm: unknown, data: unknown): Promise<ArrayBuffer> {
    const count = arguments.length;
    return settle(() => {
      requireArguments(count, 2, 'digest');
      const bytes = bytesArgument(data, 'digest', 2);
      const name = normalizeAlgorithm(algorithm, 'digest').name;
      const digest = hostDigest(name, TypedArrayPrototypeGetBuffer(bytes) as ArrayBuffer);
      if (digest === null) fail('OperationError', 'The data is too large to digest at once (the limit is 64 MiB).');
      return digest;
    });
  }

  // https://w3c.github.io/webcrypto/#SubtleCrypto-method-generateKey
  generateKey(algorithm: unknown, extractable: unknown, keyUsages: unknown): Promise<CryptoKey | { publicKey: CryptoKey; privateKey: CryptoKey }> {
    const count = arguments.length;
    return settle(() => {
      requireArguments(count, 3, 'generateKey');
      const usages = toUsages(keyUsages);
      const normalized = normalizeAlgorithm(algorithm, 'generateKey');
      if (isSecretAlgorithm(normalized.name)) {
        if (usages === 0) fail('SyntaxError', 'Usages cannot be empty when creating a key.');
        return generateSecretKey(normalized, !!extractable, usages);
      }
      const pair = generateKeyPair(normalized, !!extractable, usages);
      if (keySlots(pair.privateKey, 'generateKey', 0).usages === 0) fail('SyntaxError', 'Usages cannot be empty when creating a key.');
      return pair;
    });
  }

  // https://w3c.github.io/webcrypto/#SubtleCrypto-method-importKey
  importKey(format: unknown, keyData: unknown, algorithm: unknown, extractable: unknown, keyUsages: unknown): Promise<CryptoKey> {
    const count = arguments.length;
    return settle(() => {
      requireArguments(count, 5, 'importKey');
      const keyFormat = formatArgument(format, 'importKey');
      // (BufferSource or JsonWebKey): a buffer or view is a BufferSource, anything else a dictionary.
      const bytes = bufferSourceBytes(keyData, false);
      const jwk: JsonWebKey | null = bytes === null ? toJsonWebKey(keyData) : null;
      const usages = toUsages(keyUsages);
      if (keyFormat === 'jwk' ? jwk === null : bytes === null) {
        throw new TypeError(`Failed to execute 'importKey' on 'SubtleCrypto': Key data must be ${keyFormat === 'jwk' ? 'an object for JWK import' : 'a BufferSource for non-JWK formats'}.`);
      }
      const data = jwk === null ? copyBytes(bytes!) : jwk;
      return importKey(keyFormat, data, normalizeAlgorithm(algorithm, 'importKey'), !!extractable, usages);
    });
  }

  // https://w3c.github.io/webcrypto/#SubtleCrypto-method-exportKey
  exportKey(format: unknown, key: unknown): Promise<ArrayBuffer | object> {
    const count = arguments.length;
    return settle(() => {
      requireArguments(count, 2, 'exportKey');
      return exportKey(formatArgument(format, 'exportKey'), keySlots(key, 'exportKey', 2));
    });
  }

  // https://w3c.github.io/webcrypto/#SubtleCrypto-method-deriveKey
  deriveKey(algorithm: unknown, baseKey: unknown, derivedKeyType: unknown, extractable: unknown, keyUsages: unknown): Promise<CryptoKey> {
    const count = arguments.length;
    return settle(() => {
      requireArguments(count, 5, 'deriveKey');
      const normalized = normalizeAlgorithm(algorithm, 'deriveBits');
      const importAlgorithm = normalizeAlgorithm(derivedKeyType, 'importKey');
      const length = keyLength(normalizeAlgorithm(derivedKeyType, 'get key length'));
      const usages = toUsages(keyUsages);
      const bits = deriveBits(normalized, keySlots(baseKey, 'deriveKey', 2), length, 'deriveKey');
      const key = importSecretKey('raw', new Uint8ArrayCtor(bits), importAlgorithm, !!extractable, usages);
      if (keySlots(key, 'deriveKey', 0).usages === 0) fail('SyntaxError', 'Usages cannot be empty when creating a key.');
      return key;
    });
  }

  // https://w3c.github.io/webcrypto/#SubtleCrypto-method-deriveBits
  deriveBits(algorithm: unknown, baseKey: unknown, length: unknown = null): Promise<ArrayBuffer> {
    const count = arguments.length;
    return settle(() => {
      requireArguments(count, 2, 'deriveBits');
      const normalized = normalizeAlgorithm(algorithm, 'deriveBits');
      const bits = length === null || length === undefined ? null : enforceUnsignedLong(length);
      return deriveBits(normalized, keySlots(baseKey, 'deriveBits', 2), bits, 'deriveBits');
    });
  }

  // https://w3c.github.io/webcrypto/#SubtleCrypto-method-wrapKey
  wrapKey(format: unknown, key: unknown, wrappingKey: unknown, wrapAlgorithm: unknown): Promise<ArrayBuffer> {
    const count = arguments.length;
    return settle(() => {
      requireArguments(count, 4, 'wrapKey');
      const keyFormat = formatArgument(format, 'wrapKey');
      const slots = keySlots(key, 'wrapKey', 2);
      const wrapping = keySlots(wrappingKey, 'wrapKey', 3);
      const normalized = normalizeAlgorithm(wrapAlgorithm, 'wrapKey');
      // The wrapping key is checked before the key is exported (cipher and keyWrap check it again).
      checkKey(normalized, wrapping, 'wrapKey');
      const exported = exportKey(keyFormat, slots);
      // A JWK is wrapped as its JSON text, UTF-8 encoded.
      const bytes = keyFormat === 'jwk' ? utf8Encode(JSONStringify(exported)) : new Uint8ArrayCtor(exported as ArrayBuffer);
      return normalized.name === 'AES-KW' ? keyWrap('wrapKey', normalized, wrapping, bytes) : cipher('encrypt', normalized, wrapping, bytes, 'wrapKey');
    });
  }

  // https://w3c.github.io/webcrypto/#SubtleCrypto-method-unwrapKey
  unwrapKey(
    format: unknown,
    wrappedKey: unknown,
    unwrappingKey: unknown,
    unwrapAlgorithm: unknown,
    unwrappedKeyAlgorithm: unknown,
    extractable: unknown,
    keyUsages: unknown,
  ): Promise<CryptoKey> {
    const count = arguments.length;
    return settle(() => {
      requireArguments(count, 7, 'unwrapKey');
      const keyFormat = formatArgument(format, 'unwrapKey');
      const wrapped = bytesArgument(wrappedKey, 'unwrapKey', 2);
      const unwrapping = keySlots(unwrappingKey, 'unwrapKey', 3);
      const normalized = normalizeAlgorithm(unwrapAlgorithm, 'unwrapKey');
      const keyAlgorithm = normalizeAlgorithm(unwrappedKeyAlgorithm, 'importKey');
      const usages = toUsages(keyUsages);
      const bytes = new Uint8ArrayCtor(
        normalized.name === 'AES-KW' ? keyWrap('unwrapKey', normalized, unwrapping, wrapped) : cipher('decrypt', normalized, unwrapping, wrapped, 'unwrapKey'),
      );
      let data: Uint8Array<ArrayBuffer> | JsonWebKey = bytes;
      if (keyFormat === 'jwk') {
        let parsed: unknown;
        try {
          parsed = JSONParse(utf8Decode(bytes));
        } catch {
          fail('DataError', 'The unwrapped key is not a JSON Web Key');
        }
        const jwk = typeof parsed === 'object' && parsed !== null ? toJsonWebKey(parsed) : null;
        if (jwk === null) fail('DataError', 'The unwrapped key is not a JSON Web Key');
        data = jwk;
      }
      return importKey(keyFormat, data, keyAlgorithm, !!extractable, usages);
    });
  }
}
nameClass(SubtleCrypto, 'SubtleCrypto');

// https://w3c.github.io/webcrypto/#SubtleCrypto-method-importKey, steps after the arguments' conversion.
function importKey(format: KeyFormat, data: Uint8Array<ArrayBuffer> | JsonWebKey, algorithm: Algorithm, extractable: boolean, usages: number): CryptoKey {
  const key = isSecretAlgorithm(algorithm.name)
    ? importSecretKey(format, data, algorithm, extractable, usages)
    : importAsymmetricKey(format, data, algorithm, extractable, usages);
  const slots = keySlots(key, 'importKey', 0);
  if (slots.type !== 'public' && slots.usages === 0) fail('SyntaxError', 'Usages cannot be empty when creating a key.');
  return key;
}

// https://w3c.github.io/webcrypto/#SubtleCrypto-method-exportKey, steps after the arguments' conversion.
function exportKey(format: KeyFormat, key: KeySlots): ArrayBuffer | object {
  const name = key.algorithm.name;
  if (!isSecretAlgorithm(name) && !isAsymmetricAlgorithm(name)) fail('NotSupportedError', `${name} keys cannot be exported`);
  if (!key.extractable) fail('InvalidAccessError', 'The key is not extractable');
  return isSecretAlgorithm(name) ? exportSecretKey(format, key) : exportAsymmetricKey(format, key);
}

/** Web IDL [EnforceRange] unsigned long, as deriveBits' length. */
function enforceUnsignedLong(value: unknown): number {
  const number = +(value as number);
  if (!NumberIsFinite(number) || number < 0 || number > 0xffffffff) throw new TypeError("Failed to execute 'deriveBits' on 'SubtleCrypto': Value is outside the 'unsigned long' value range.");
  return MathTrunc(number);
}

/** PBKDF2 and HKDF (https://w3c.github.io/webcrypto/#pbkdf2-operations-derive-bits, #hkdf-operations-derive-bits). */
function deriveBits(algorithm: Algorithm, key: KeySlots, length: number | null, usage: 'deriveBits' | 'deriveKey'): ArrayBuffer {
  if (algorithm.name !== key.algorithm.name) fail('InvalidAccessError', `The key is not a ${algorithm.name} key`);
  if (!hasUsage(key.usages, usage)) fail('InvalidAccessError', `The key does not support the '${usage}' operation`);
  if (isKeyAgreement(algorithm.name)) return agreedBits(algorithm, key, length);
  if (length === null || length % 8 !== 0) fail('OperationError', 'The length must be a multiple of 8 bits');
  if (algorithm.name === 'PBKDF2') {
    if (length === 0) fail('OperationError', 'The length must not be zero');
    if (algorithm.iterations === 0) fail('OperationError', 'The iteration count must not be zero');
    if (algorithm.iterations! > MAX_PBKDF2_ITERATIONS) fail('NotSupportedError', `Pbkdf2 failed: iteration counts above ${MAX_PBKDF2_ITERATIONS} are not supported (requested ${algorithm.iterations!}).`);
    // The host bounds the whole work (iterations × output blocks, and the salt's size) and says so.
  }
  if (length === 0) return new ArrayBuffer(0);
  const call = { __proto__: null, op: 'deriveBits', alg: algorithm.name, hash: algorithm.hash, iterations: algorithm.iterations, length };
  const buffers = [key.secret!, TypedArrayPrototypeGetBuffer(algorithm.salt!) as ArrayBuffer];
  if (algorithm.info !== undefined) buffers[2] = TypedArrayPrototypeGetBuffer(algorithm.info) as ArrayBuffer;
  return subtleCall(call, buffers).buffers[0]!;
}

/**
 * ECDH and X25519 (https://w3c.github.io/webcrypto/#ecdh-operations-derive-bits,
 * https://wicg.github.io/webcrypto-secure-curves/#x25519-operations): the shared secret of the private
 * base key and the peer's public key, whole (length null) or its first `length` bits.
 */
function agreedBits(algorithm: Algorithm, key: KeySlots, length: number | null): ArrayBuffer {
  if (key.type !== 'private') fail('InvalidAccessError', 'The base key is not a private key');
  const peer = keySlots(algorithm.public, 'deriveBits', 1);
  if (peer.type !== 'public') fail('InvalidAccessError', 'The public member is not a public key');
  if (peer.algorithm.name !== key.algorithm.name) fail('InvalidAccessError', `The public key is not a ${key.algorithm.name} key`);
  if (peer.algorithm.namedCurve !== key.algorithm.namedCurve) fail('InvalidAccessError', 'The public key is on another curve');
  const call = { __proto__: null, op: 'deriveBits', alg: hostAlgorithm(algorithm.name), jwk: key.jwk, peerJwk: peer.jwk, length };
  return subtleCall(call, []).buffers[0]!;
}

/**
 * As workerd: more would hold the thread, since a host call cannot be interrupted by the CPU limit
 * (100,000 iterations of SHA-256 take ~30 ms here).
 */
const MAX_PBKDF2_ITERATIONS = 100_000;
