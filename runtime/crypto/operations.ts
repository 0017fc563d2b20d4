/**
 * sign, verify, encrypt and decrypt once the arguments are converted: the spec's key checks
 * (algorithm name, usage, key type: InvalidAccessError), the algorithm's own parameter checks
 * (OperationError), then one host call with the key's material.
 */
import { TypedArrayPrototypeGetBuffer, TypedArrayPrototypeGetLength } from '../primordials.ts';
import type { Algorithm } from './algorithms.ts';
import { fail } from './errors.ts';
import { subtleCall } from './host-call.ts';
import { type KeySlots, type KeyUsage, hasUsage } from './key.ts';

const TAG_LENGTHS: Record<number, true | undefined> = {
  __proto__: null, 32: true, 64: true, 96: true, 104: true, 112: true, 120: true, 128: true,
} as unknown as Record<number, true | undefined>;

function buffer(bytes: Uint8Array<ArrayBuffer>): ArrayBuffer {
  return TypedArrayPrototypeGetBuffer(bytes) as ArrayBuffer;
}

/** Steps shared by every operation: the key is for this algorithm and allows this usage. */
export function checkKey(algorithm: Algorithm, key: KeySlots, usage: KeyUsage): void {
  if (algorithm.name !== key.algorithm.name) fail('InvalidAccessError', `The key is not a ${algorithm.name} key`);
  if (!hasUsage(key.usages, usage)) fail('InvalidAccessError', `The key does not support the '${usage}' operation`);
}

/** The host call's key members and buffers for a signature operation. */
function signatureCall(op: 'sign' | 'verify', algorithm: Algorithm, key: KeySlots): object {
  const name = algorithm.name;
  if (name === 'HMAC') return { __proto__: null, op, alg: name, hash: key.algorithm.hash };
  if (name === 'Ed25519' || name === 'NODE-ED25519') return { __proto__: null, op, alg: 'Ed25519', jwk: key.jwk };
  // ECDSA takes the hash from its parameters, RSA from the key.
  const hash = name === 'ECDSA' ? algorithm.hash : key.algorithm.hash;
  return { __proto__: null, op, alg: name, hash, saltLength: algorithm.saltLength, jwk: key.jwk };
}

// https://w3c.github.io/webcrypto/#SubtleCrypto-method-sign
export function sign(algorithm: Algorithm, key: KeySlots, data: Uint8Array<ArrayBuffer>): ArrayBuffer {
  checkKey(algorithm, key, 'sign');
  if (key.type === 'public') fail('InvalidAccessError', 'A public key cannot sign');
  const call = signatureCall('sign', algorithm, key);
  const buffers = key.secret === null ? [buffer(data)] : [key.secret, buffer(data)];
  return subtleCall(call, buffers).buffers[0]!;
}

// https://w3c.github.io/webcrypto/#SubtleCrypto-method-verify
export function verify(algorithm: Algorithm, key: KeySlots, signature: Uint8Array<ArrayBuffer>, data: Uint8Array<ArrayBuffer>): boolean {
  checkKey(algorithm, key, 'verify');
  if (key.type === 'private') fail('InvalidAccessError', 'A private key cannot verify');
  const call = signatureCall('verify', algorithm, key);
  const buffers = key.secret === null ? [buffer(data), buffer(signature)] : [key.secret, buffer(data), buffer(signature)];
  return subtleCall(call, buffers).json === 'true';
}

// https://w3c.github.io/webcrypto/#aes-gcm-operations-encrypt, #aes-cbc-, #aes-ctr-, #rsa-oaep-operations-encrypt (and
// decrypt). wrapKey and unwrapKey encrypt and decrypt with their own usage (`usage`).
export function cipher(op: 'encrypt' | 'decrypt', algorithm: Algorithm, key: KeySlots, data: Uint8Array<ArrayBuffer>, usage: KeyUsage = op): ArrayBuffer {
  checkKey(algorithm, key, usage);
  const name = algorithm.name;
  if (name === 'RSA-OAEP') {
    if (key.type !== (op === 'encrypt' ? 'public' : 'private')) fail('InvalidAccessError', `A ${key.type} key cannot ${op}`);
    const label = algorithm.label;
    const call = { __proto__: null, op, alg: name, hash: key.algorithm.hash, jwk: key.jwk };
    return subtleCall(call, label === undefined ? [buffer(data)] : [buffer(data), buffer(label)]).buffers[0]!;
  }
  if (name === 'AES-CTR') {
    const counter = algorithm.counter!;
    if (TypedArrayPrototypeGetLength(counter) !== 16) fail('OperationError', 'The AES-CTR counter must be 16 bytes');
    const length = algorithm.length!;
    if (length === 0 || length > 128) fail('OperationError', 'The AES-CTR counter length must be 1 to 128 bits');
    return subtleCall({ __proto__: null, op, alg: name, length }, [key.secret!, buffer(counter), buffer(data)]).buffers[0]!;
  }
  const iv = algorithm.iv!;
  const ivLength = TypedArrayPrototypeGetLength(iv);
  if (name === 'AES-CBC') {
    if (ivLength !== 16) fail('OperationError', 'The AES-CBC iv must be 16 bytes');
    return subtleCall({ __proto__: null, op, alg: 'AES-CBC' }, [key.secret!, buffer(iv), buffer(data)]).buffers[0]!;
  }
  if (ivLength === 0) fail('OperationError', 'The AES-GCM iv must not be empty');
  const tagLength = algorithm.tagLength === undefined ? 128 : algorithm.tagLength;
  if (TAG_LENGTHS[tagLength] !== true) fail('OperationError', `${tagLength} is not a valid AES-GCM tag length`);
  if (op === 'decrypt' && TypedArrayPrototypeGetLength(data) < tagLength / 8) fail('OperationError', 'The data is shorter than the tag');
  const aad = algorithm.additionalData;
  const buffers = aad === undefined ? [key.secret!, buffer(iv), buffer(data)] : [key.secret!, buffer(iv), buffer(data), buffer(aad)];
  return subtleCall({ __proto__: null, op, alg: 'AES-GCM', tagLength }, buffers).buffers[0]!;
}

// https://w3c.github.io/webcrypto/#aes-kw-operations-wrap-key (and unwrap key): RFC 3394.
export function keyWrap(op: 'wrapKey' | 'unwrapKey', algorithm: Algorithm, key: KeySlots, data: Uint8Array<ArrayBuffer>): ArrayBuffer {
  checkKey(algorithm, key, op);
  const length = TypedArrayPrototypeGetLength(data);
  if (length % 8 !== 0 || length < (op === 'wrapKey' ? 16 : 24)) fail('OperationError', `AES-KW ${op === 'wrapKey' ? 'wraps' : 'unwraps'} multiples of 8 bytes, at least ${op === 'wrapKey' ? 16 : 24}`);
  return subtleCall({ __proto__: null, op, alg: 'AES-KW' }, [key.secret!, buffer(data)]).buffers[0]!;
}
