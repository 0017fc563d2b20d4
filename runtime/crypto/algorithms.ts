/**
 * Algorithm normalization (https://w3c.github.io/webcrypto/#algorithm-normalization-normalize-an-algorithm):
 * an AlgorithmIdentifier (a name, or an object with `name` and the operation's parameters) becomes a
 * plain record. Unknown names are NotSupportedError; missing or mistyped parameters are TypeError, as
 * the Web IDL dictionary conversion says. Parameters are read once, in the dictionary's member order.
 */
import { bufferSourceBytes, copyBytes } from '../encoding/buffer-source.ts';
import { MathTrunc, NumberIsFinite, StringPrototypeToUpperCase, TypedArrayPrototypeGetSymbolToStringTag } from '../primordials.ts';
import { fail } from './errors.ts';

export type HashName = 'SHA-1' | 'SHA-256' | 'SHA-384' | 'SHA-512';
export type Operation = 'digest' | 'sign' | 'verify' | 'encrypt' | 'decrypt' | 'generateKey' | 'importKey' | 'deriveBits' | 'wrapKey' | 'unwrapKey' | 'get key length';

/** A normalized algorithm: `name` in its registered spelling, plus whichever parameters its dictionary has. */
export interface Algorithm {
  name: string;
  hash?: HashName;
  /** HMAC key length (bits, optional) or AES key length (bits). */
  length?: number;
  iv?: Uint8Array<ArrayBuffer>;
  additionalData?: Uint8Array<ArrayBuffer>;
  tagLength?: number;
  namedCurve?: string;
  modulusLength?: number;
  publicExponent?: Uint8Array<ArrayBuffer>;
  saltLength?: number;
  /** PBKDF2 and HKDF. */
  salt?: Uint8Array<ArrayBuffer>;
  iterations?: number;
  info?: Uint8Array<ArrayBuffer>;
  /** AES-CTR: the initial counter block, and how many of its rightmost bits count. */
  counter?: Uint8Array<ArrayBuffer>;
  /** RSA-OAEP. */
  label?: Uint8Array<ArrayBuffer>;
  /** ECDH and X25519: the peer's public key (a CryptoKey, checked by deriveBits). */
  public?: unknown;
}

/** The IDL dictionary each (operation, algorithm) pair is converted to. */
type Params =
  | 'Algorithm'
  | 'HmacImportParams' // also HmacKeyGenParams: hash, length?
  | 'AesKeyGenParams'
  | 'AesGcmParams'
  | 'AesCbcParams'
  | 'AesCtrParams'
  | 'RsaOaepParams'
  | 'EcdhKeyDeriveParams'
  | 'EcdsaParams'
  | 'EcKeyParams' // EcKeyGenParams, EcKeyImportParams
  | 'RsaHashedImportParams'
  | 'RsaHashedKeyGenParams'
  | 'RsaPssParams'
  | 'Pbkdf2Params'
  | 'HkdfParams';

type Registry = Record<string, [name: string, params: Params] | undefined>;

function registry(entries: [string, Params][]): Registry {
  const table = { __proto__: null } as unknown as Registry;
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i]!;
    table[StringPrototypeToUpperCase(entry[0])] = entry;
  }
  return table;
}

// Ed25519 (https://wicg.github.io/webcrypto-secure-curves/#ed25519); NODE-ED25519 is Workers' older
// name for it (`{ name: 'NODE-ED25519', namedCurve: 'NODE-ED25519' }`), which Discord's examples use.
const SIGN = registry([
  ['HMAC', 'Algorithm'], ['ECDSA', 'EcdsaParams'], ['RSASSA-PKCS1-v1_5', 'Algorithm'], ['RSA-PSS', 'RsaPssParams'],
  ['Ed25519', 'Algorithm'], ['NODE-ED25519', 'Algorithm'],
]);
const CIPHER = registry([['AES-GCM', 'AesGcmParams'], ['AES-CBC', 'AesCbcParams'], ['AES-CTR', 'AesCtrParams'], ['RSA-OAEP', 'RsaOaepParams']]);
/** wrapKey and unwrapKey: AES-KW, and every cipher (https://w3c.github.io/webcrypto/#SubtleCrypto-method-wrapKey). */
const WRAP = registry([['AES-KW', 'Algorithm'], ['AES-GCM', 'AesGcmParams'], ['AES-CBC', 'AesCbcParams'], ['AES-CTR', 'AesCtrParams'], ['RSA-OAEP', 'RsaOaepParams']]);
const REGISTRY: Record<Operation, Registry> = {
  __proto__: null,
  // MD5 as Workers have it, for digest() only (hashMember refuses it as a key's hash).
  digest: registry([['SHA-1', 'Algorithm'], ['SHA-256', 'Algorithm'], ['SHA-384', 'Algorithm'], ['SHA-512', 'Algorithm'], ['MD5', 'Algorithm']]),
  sign: SIGN,
  verify: SIGN,
  encrypt: CIPHER,
  decrypt: CIPHER,
  wrapKey: WRAP,
  unwrapKey: WRAP,
  generateKey: registry([
    ['HMAC', 'HmacImportParams'], ['AES-GCM', 'AesKeyGenParams'], ['AES-CBC', 'AesKeyGenParams'], ['AES-CTR', 'AesKeyGenParams'], ['AES-KW', 'AesKeyGenParams'],
    ['ECDSA', 'EcKeyParams'], ['RSASSA-PKCS1-v1_5', 'RsaHashedKeyGenParams'], ['RSA-PSS', 'RsaHashedKeyGenParams'], ['RSA-OAEP', 'RsaHashedKeyGenParams'],
    ['Ed25519', 'Algorithm'], ['NODE-ED25519', 'Algorithm'], ['ECDH', 'EcKeyParams'], ['X25519', 'Algorithm'],
  ]),
  importKey: registry([
    ['HMAC', 'HmacImportParams'], ['AES-GCM', 'Algorithm'], ['AES-CBC', 'Algorithm'], ['AES-CTR', 'Algorithm'], ['AES-KW', 'Algorithm'],
    ['ECDSA', 'EcKeyParams'], ['RSASSA-PKCS1-v1_5', 'RsaHashedImportParams'], ['RSA-PSS', 'RsaHashedImportParams'], ['RSA-OAEP', 'RsaHashedImportParams'],
    ['Ed25519', 'Algorithm'], ['NODE-ED25519', 'Algorithm'], ['ECDH', 'EcKeyParams'], ['X25519', 'Algorithm'],
    ['PBKDF2', 'Algorithm'], ['HKDF', 'Algorithm'],
  ]),
  deriveBits: registry([['PBKDF2', 'Pbkdf2Params'], ['HKDF', 'HkdfParams'], ['ECDH', 'EcdhKeyDeriveParams'], ['X25519', 'EcdhKeyDeriveParams']]),
  // deriveKey's derivedKeyType: what the derived bits become (https://w3c.github.io/webcrypto/#dfn-get-key-length).
  'get key length': registry([
    ['HMAC', 'HmacImportParams'], ['AES-GCM', 'AesKeyGenParams'], ['AES-CBC', 'AesKeyGenParams'], ['AES-CTR', 'AesKeyGenParams'], ['AES-KW', 'AesKeyGenParams'],
  ]),
} as unknown as Record<Operation, Registry>;

function typeError(dictionary: string, member: string, what: string): never {
  throw new TypeError(`Failed to read the '${member}' property from '${dictionary}': ${what}`);
}

function required(dictionary: string, member: string): never {
  typeError(dictionary, member, 'Required member is undefined.');
}

/** [EnforceRange] integer conversion (https://webidl.spec.whatwg.org/#abstract-opdef-converttoint). */
function enforceRange(value: unknown, max: number, dictionary: string, member: string): number {
  const number = +(value as number);
  if (!NumberIsFinite(number)) typeError(dictionary, member, 'Value is not a finite number.');
  const integer = MathTrunc(number) + 0;
  if (integer < 0 || integer > max) typeError(dictionary, member, `Value is outside the '[0, ${max}]' range.`);
  return integer;
}

function bufferSource(value: unknown, dictionary: string, member: string): Uint8Array<ArrayBuffer> {
  const bytes = bufferSourceBytes(value, false);
  if (bytes === null) typeError(dictionary, member, "The provided value is not of type '(ArrayBuffer or ArrayBufferView)'.");
  return copyBytes(bytes);
}

function hashMember(value: unknown, dictionary: string): HashName {
  if (value === undefined) required(dictionary, 'hash');
  const name = normalizeAlgorithm(value, 'digest').name;
  if (name === 'MD5') fail('NotSupportedError', `MD5 is not supported for ${dictionary}`);
  return name as HashName;
}

// https://w3c.github.io/webcrypto/#dfn-normalize-an-algorithm
export function normalizeAlgorithm(algorithm: unknown, operation: Operation): Algorithm {
  let given: Record<string, unknown> | null = null;
  let name: string;
  if ((typeof algorithm === 'object' && algorithm !== null) || typeof algorithm === 'function') {
    given = algorithm as Record<string, unknown>;
    const value = given.name;
    if (value === undefined) required('Algorithm', 'name');
    name = `${value as string}`;
  } else {
    // (object or DOMString): any other value is converted to a string.
    name = `${algorithm as string}`;
  }
  const entry = REGISTRY[operation][StringPrototypeToUpperCase(name)];
  if (entry === undefined) fail('NotSupportedError', `Unrecognized algorithm name '${name}' for ${operation}`);
  const params = entry[1];
  const result = { __proto__: null, name: entry[0] } as unknown as Algorithm;
  if (params === 'Algorithm') return result;
  // A string algorithm is the dictionary { name }: every required member is missing.
  const get = (member: string): unknown => (given === null ? undefined : given[member]);
  switch (params) {
    case 'HmacImportParams': {
      result.hash = hashMember(get('hash'), params);
      const length = get('length');
      if (length !== undefined) result.length = enforceRange(length, 0xffffffff, params, 'length');
      break;
    }
    case 'AesKeyGenParams': {
      const length = get('length');
      if (length === undefined) required(params, 'length');
      result.length = enforceRange(length, 0xffff, params, 'length');
      break;
    }
    case 'AesGcmParams': {
      const additionalData = get('additionalData');
      if (additionalData !== undefined) result.additionalData = bufferSource(additionalData, params, 'additionalData');
      const iv = get('iv');
      if (iv === undefined) required(params, 'iv');
      result.iv = bufferSource(iv, params, 'iv');
      const tagLength = get('tagLength');
      if (tagLength !== undefined) result.tagLength = enforceRange(tagLength, 0xff, params, 'tagLength');
      break;
    }
    case 'AesCbcParams': {
      const iv = get('iv');
      if (iv === undefined) required(params, 'iv');
      result.iv = bufferSource(iv, params, 'iv');
      break;
    }
    case 'AesCtrParams': {
      const counter = get('counter');
      if (counter === undefined) required(params, 'counter');
      result.counter = bufferSource(counter, params, 'counter');
      const length = get('length');
      if (length === undefined) required(params, 'length');
      result.length = enforceRange(length, 0xff, params, 'length');
      break;
    }
    case 'EcdhKeyDeriveParams': {
      const peer = get('public');
      if (peer === undefined) required(params, 'public');
      result.public = peer;
      break;
    }
    case 'RsaOaepParams': {
      const label = get('label');
      if (label !== undefined) result.label = bufferSource(label, params, 'label');
      break;
    }
    case 'EcdsaParams':
    case 'RsaHashedImportParams':
      result.hash = hashMember(get('hash'), params);
      break;
    case 'EcKeyParams': {
      const namedCurve = get('namedCurve');
      if (namedCurve === undefined) required(params, 'namedCurve');
      result.namedCurve = `${namedCurve as string}`;
      break;
    }
    case 'RsaHashedKeyGenParams': {
      const modulusLength = get('modulusLength');
      if (modulusLength === undefined) required(params, 'modulusLength');
      result.modulusLength = enforceRange(modulusLength, 0xffffffff, params, 'modulusLength');
      const publicExponent = get('publicExponent');
      if (publicExponent === undefined) required(params, 'publicExponent');
      // BigInteger is a Uint8Array (https://w3c.github.io/webcrypto/#big-integer).
      if (TypedArrayPrototypeGetSymbolToStringTag(publicExponent) !== 'Uint8Array') {
        typeError(params, 'publicExponent', "The provided value is not of type 'Uint8Array'.");
      }
      result.publicExponent = copyBytes(publicExponent as Uint8Array);
      result.hash = hashMember(get('hash'), params);
      break;
    }
    case 'Pbkdf2Params': {
      result.hash = hashMember(get('hash'), params);
      const iterations = get('iterations');
      if (iterations === undefined) required(params, 'iterations');
      result.iterations = enforceRange(iterations, 0xffffffff, params, 'iterations');
      const salt = get('salt');
      if (salt === undefined) required(params, 'salt');
      result.salt = bufferSource(salt, params, 'salt');
      break;
    }
    case 'HkdfParams': {
      result.hash = hashMember(get('hash'), params);
      const info = get('info');
      if (info === undefined) required(params, 'info');
      result.info = bufferSource(info, params, 'info');
      const salt = get('salt');
      if (salt === undefined) required(params, 'salt');
      result.salt = bufferSource(salt, params, 'salt');
      break;
    }
    case 'RsaPssParams': {
      const saltLength = get('saltLength');
      if (saltLength === undefined) required(params, 'saltLength');
      result.saltLength = enforceRange(saltLength, 0xffffffff, params, 'saltLength');
      break;
    }
  }
  return result;
}
