/**
 * Public and private keys: ECDSA (https://w3c.github.io/webcrypto/#ecdsa), RSASSA-PKCS1-v1_5, RSA-PSS
 * and RSA-OAEP (https://w3c.github.io/webcrypto/#rsassa-pkcs1, #rsa-oaep), Ed25519. The runtime checks what the spec asks of the arguments
 * (usages, JWK members); the host parses and validates the key material (DER, points, JWK numbers) and
 * answers with the key as a canonical JWK, which the CryptoKey keeps. Generation is the host's too.
 */
import {
  JSONParse,
  JSONStringify,
  ObjectHasOwn,
  StringPrototypeCharCodeAt,
  TypedArrayPrototypeGetBuffer,
  TypedArrayPrototypeGetLength,
  TypedArrayPrototypeSet,
  Uint8ArrayCtor,
} from '../primordials.ts';
import type { Algorithm, HashName } from './algorithms.ts';
import { fail } from './errors.ts';
import { subtleCall } from './host-call.ts';
import { type JsonWebKey, checkJwk } from './jwk.ts';
import { type CryptoKey, type KeyAlgorithm, type KeySlots, type KeyType, type Usages, checkUsages, createKey, usageList, usageMask } from './key.ts';
import type { KeyFormat } from './secret-keys.ts';

const SIGN = usageMask('sign');
const VERIFY = usageMask('verify');
const DECRYPT = usageMask('decrypt', 'unwrapKey');
const ENCRYPT = usageMask('encrypt', 'wrapKey');
const DERIVE = usageMask('deriveKey', 'deriveBits');

/** Key agreement: a private key derives, a public key has no usage of its own. */
export function isKeyAgreement(name: string): boolean {
  return name === 'ECDH' || name === 'X25519';
}

/** The usages a private and a public key of `name` may have. */
function privateUsages(name: string): Usages {
  return name === 'RSA-OAEP' ? DECRYPT : isKeyAgreement(name) ? DERIVE : SIGN;
}
function publicUsages(name: string): Usages {
  return name === 'RSA-OAEP' ? ENCRYPT : isKeyAgreement(name) ? 0 : VERIFY;
}

/** EC keys (ECDSA, ECDH) and OKP keys (Ed25519, X25519). */
function isEc(name: string): boolean {
  return name === 'ECDSA' || name === 'ECDH';
}
function isOkp(name: string): boolean {
  return isEd25519(name) || name === 'X25519';
}
/** The JWK "crv" of an OKP key. */
function okpCurve(name: string): string {
  return name === 'X25519' ? 'X25519' : 'Ed25519';
}

const CURVES: Record<string, string | undefined> = { __proto__: null, 'P-256': 'ES256', 'P-384': 'ES384', 'P-521': 'ES512' } as unknown as Record<string, string | undefined>;
const RSA_JWK_ALG: Record<string, Record<HashName, string>> = {
  __proto__: null,
  'RSASSA-PKCS1-v1_5': { __proto__: null, 'SHA-1': 'RS1', 'SHA-256': 'RS256', 'SHA-384': 'RS384', 'SHA-512': 'RS512' },
  'RSA-PSS': { __proto__: null, 'SHA-1': 'PS1', 'SHA-256': 'PS256', 'SHA-384': 'PS384', 'SHA-512': 'PS512' },
  'RSA-OAEP': { __proto__: null, 'SHA-1': 'RSA-OAEP', 'SHA-256': 'RSA-OAEP-256', 'SHA-384': 'RSA-OAEP-384', 'SHA-512': 'RSA-OAEP-512' },
} as unknown as Record<string, Record<HashName, string>>;

/** The JWK members that carry key material, per key type: the only ones sent to the host. */
const EC_MEMBERS = ['kty', 'crv', 'x', 'y', 'd'];
const RSA_MEMBERS = ['kty', 'n', 'e', 'd', 'p', 'q', 'dp', 'dq', 'qi'];

const OKP_MEMBERS = ['kty', 'crv', 'x', 'd'];

export function isAsymmetricAlgorithm(name: string): boolean {
  return name === 'ECDSA' || name === 'RSASSA-PKCS1-v1_5' || name === 'RSA-PSS' || name === 'RSA-OAEP' || isEd25519(name) || isKeyAgreement(name);
}

/** Ed25519, under its standard name or Workers' older one. */
function isEd25519(name: string): boolean {
  return name === 'Ed25519' || name === 'NODE-ED25519';
}

/** The algorithm name the host knows the key by. */
export function hostAlgorithm(name: string): string {
  return isEd25519(name) ? 'Ed25519' : name;
}

/** The host's description of a key it parsed or generated. */
interface HostKey {
  type: 'public' | 'private';
  jwk: string;
  namedCurve?: string;
  modulusLength?: number;
  publicExponent?: string;
}

function hexDigit(hex: string, i: number): number {
  const c = StringPrototypeCharCodeAt(hex, i);
  return c <= 0x39 ? c - 0x30 : (c | 0x20) - 0x57;
}

/** Bytes of the host's lower-case hex. */
function hexBytes(hex: string): Uint8Array<ArrayBuffer> {
  const length = hex.length >> 1;
  const bytes = new Uint8ArrayCtor(length);
  for (let i = 0; i < length; i++) bytes[i] = (hexDigit(hex, i * 2) << 4) | hexDigit(hex, i * 2 + 1);
  return bytes;
}

function keyFromHost(info: HostKey, algorithm: Algorithm, extractable: boolean, usages: Usages): CryptoKey {
  const keyAlgorithm = { __proto__: null, name: algorithm.name } as unknown as KeyAlgorithm;
  if (isEc(algorithm.name)) {
    keyAlgorithm.namedCurve = info.namedCurve!;
  } else if (algorithm.name === 'NODE-ED25519') {
    keyAlgorithm.namedCurve = 'NODE-ED25519';
  } else if (!isOkp(algorithm.name)) {
    keyAlgorithm.modulusLength = info.modulusLength!;
    keyAlgorithm.publicExponent = hexBytes(info.publicExponent!);
    keyAlgorithm.hash = algorithm.hash!;
  }
  return createKey(info.type, extractable, keyAlgorithm, usages, null, info.jwk);
}

/** A JSON object of `jwk`'s key-material members (strings only; the host checks their contents). */
function materialJson(jwk: JsonWebKey, members: string[]): string {
  let json = '{';
  for (let i = 0; i < members.length; i++) {
    const value = (jwk as Record<string, unknown>)[members[i]!];
    if (value === undefined) continue;
    if (json !== '{') json += ',';
    json += `"${members[i]!}":${JSONStringify(value as string)}`;
  }
  return json + '}';
}

// https://w3c.github.io/webcrypto/#ecdsa-operations-import-key, #rsassa-pkcs1-operations-import-key
export function importAsymmetricKey(
  format: KeyFormat,
  keyData: Uint8Array | JsonWebKey,
  algorithm: Algorithm,
  extractable: boolean,
  usages: Usages,
): CryptoKey {
  const name = algorithm.name;
  const ec = isEc(name);
  const ed = isOkp(name);
  if (ec && CURVES[algorithm.namedCurve!] === undefined) fail('NotSupportedError', `Unsupported named curve '${algorithm.namedCurve!}'`);
  let type: KeyType;
  let jwkText: string | undefined;
  if (format === 'spki' || (format === 'raw' && (ec || ed))) {
    checkUsages(usages, publicUsages(name));
    type = 'public';
  } else if (format === 'pkcs8') {
    checkUsages(usages, privateUsages(name));
    type = 'private';
  } else if (format === 'jwk') {
    const jwk = keyData as JsonWebKey;
    type = jwk.d !== undefined ? 'private' : 'public';
    checkUsages(usages, type === 'private' ? privateUsages(name) : publicUsages(name));
    checkJwk(jwk, ec ? 'EC' : ed ? 'OKP' : 'RSA', name === 'RSA-OAEP' || isKeyAgreement(name) ? 'enc' : 'sig', usages, extractable);
    if (ed) {
      if (jwk.crv !== okpCurve(name)) fail('DataError', `The JWK "crv" member was not "${okpCurve(name)}"`);
      if (isEd25519(name) && jwk.alg !== undefined && jwk.alg !== 'EdDSA' && jwk.alg !== 'Ed25519') fail('DataError', 'The JWK "alg" member was not "EdDSA"');
    } else if (ec) {
      if (jwk.crv !== algorithm.namedCurve) fail('DataError', `The JWK "crv" member was not "${algorithm.namedCurve!}"`);
      const alg = jwk.alg;
      if (name === 'ECDSA' && alg !== undefined && (alg === 'ES256' || alg === 'ES384' || alg === 'ES512') && alg !== CURVES[algorithm.namedCurve!]) {
        fail('DataError', `The JWK "alg" member was not "${CURVES[algorithm.namedCurve!]!}"`);
      }
    } else {
      const expected = RSA_JWK_ALG[name]![algorithm.hash!];
      if (jwk.alg !== undefined && jwk.alg !== expected) fail('DataError', `The JWK "alg" member was not "${expected}"`);
      if (jwk.oth !== undefined) fail('NotSupportedError', 'Multi-prime RSA keys are not supported');
    }
    jwkText = materialJson(jwk, ec ? EC_MEMBERS : ed ? OKP_MEMBERS : RSA_MEMBERS);
  } else {
    fail('NotSupportedError', `Unsupported key format '${format}' for ${name}`);
  }
  const answer = subtleCall(
    { __proto__: null, op: 'importKey', alg: hostAlgorithm(name), format, namedCurve: ed ? undefined : algorithm.namedCurve, jwk: jwkText },
    jwkText === undefined ? [bytesBuffer(keyData as Uint8Array)] : [],
  );
  const info = JSONParse(answer.json) as HostKey;
  if (info.type !== type) fail('DataError', `The key data is not a ${type} key`);
  return keyFromHost(info, algorithm, extractable, usages);
}

function bytesBuffer(bytes: Uint8Array): ArrayBuffer {
  const copy = new Uint8ArrayCtor(TypedArrayPrototypeGetLength(bytes));
  TypedArrayPrototypeSet(copy, bytes);
  return TypedArrayPrototypeGetBuffer(copy) as ArrayBuffer;
}

function own(object: Record<string, unknown>, member: string): string | undefined {
  return ObjectHasOwn(object, member) ? (object[member] as string) : undefined;
}

// https://w3c.github.io/webcrypto/#ecdsa-operations-export-key, #rsassa-pkcs1-operations-export-key
export function exportAsymmetricKey(format: KeyFormat, key: KeySlots): ArrayBuffer | object {
  const name = key.algorithm.name;
  const ec = isEc(name);
  const ed = isOkp(name);
  if (format === 'jwk') {
    const material = JSONParse(key.jwk!) as Record<string, unknown>;
    const d = own(material, 'd');
    let jwk: Record<string, unknown>;
    if (ed) {
      jwk = { kty: 'OKP', crv: okpCurve(name), x: own(material, 'x') };
      if (d !== undefined) jwk.d = d;
    } else if (ec) {
      jwk = { kty: 'EC', crv: own(material, 'crv'), x: own(material, 'x'), y: own(material, 'y') };
      if (d !== undefined) jwk.d = d;
    } else {
      jwk = { kty: 'RSA', n: own(material, 'n'), e: own(material, 'e') };
      if (d !== undefined) {
        jwk.d = d;
        jwk.p = own(material, 'p');
        jwk.q = own(material, 'q');
        jwk.dp = own(material, 'dp');
        jwk.dq = own(material, 'dq');
        jwk.qi = own(material, 'qi');
      }
      jwk.alg = RSA_JWK_ALG[name]![key.algorithm.hash!];
    }
    jwk.key_ops = usageList(key.usages);
    jwk.ext = key.extractable;
    return jwk;
  }
  if (format === 'spki' || (format === 'raw' && (ec || ed))) {
    if (key.type !== 'public') fail('InvalidAccessError', `Only public keys can be exported as '${format}'`);
  } else if (format === 'pkcs8') {
    if (key.type !== 'private') fail('InvalidAccessError', "Only private keys can be exported as 'pkcs8'");
  } else {
    fail('NotSupportedError', `Unsupported key format '${format}' for ${name}`);
  }
  return subtleCall({ __proto__: null, op: 'exportKey', alg: hostAlgorithm(name), format, jwk: key.jwk! }, []).buffers[0]!;
}

// https://w3c.github.io/webcrypto/#ecdsa-operations-generate-key, #rsassa-pkcs1-operations-generate-key
export function generateKeyPair(algorithm: Algorithm, extractable: boolean, usages: Usages): { publicKey: CryptoKey; privateKey: CryptoKey } {
  const name = algorithm.name;
  checkUsages(usages, privateUsages(name) | publicUsages(name));
  let answer;
  if (isOkp(name)) {
    answer = subtleCall({ __proto__: null, op: 'generateKey', alg: hostAlgorithm(name) }, []);
  } else if (isEc(name)) {
    if (CURVES[algorithm.namedCurve!] === undefined) fail('NotSupportedError', `Unsupported named curve '${algorithm.namedCurve!}'`);
    answer = subtleCall({ __proto__: null, op: 'generateKey', alg: name, namedCurve: algorithm.namedCurve }, []);
  } else {
    const exponentBytes = algorithm.publicExponent!;
    let exponent = 0;
    const exponentLength = TypedArrayPrototypeGetLength(exponentBytes);
    for (let i = 0; i < exponentLength; i++) {
      exponent = exponent * 256 + exponentBytes[i]!;
      if (exponent > 0x10001) break;
    }
    if (exponent !== 3 && exponent !== 0x10001) fail('OperationError', 'The public exponent must be 3 or 65537');
    answer = subtleCall({ __proto__: null, op: 'generateKey', alg: name, modulusLength: algorithm.modulusLength, publicExponent: exponent }, []);
  }
  const pair = JSONParse(answer.json) as { publicKey: HostKey; privateKey: HostKey };
  return {
    publicKey: keyFromHost(pair.publicKey, algorithm, true, usages & publicUsages(name)),
    privateKey: keyFromHost(pair.privateKey, algorithm, extractable, usages & privateUsages(name)),
  };
}
