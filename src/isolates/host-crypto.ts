/**
 * The host side of the runtime's crypto: random bytes, digests and crypto.subtle operations, answered
 * synchronously inside the tenant's slice, so their CPU is charged to the invocation that asked.
 *
 * crypto.subtle (bridge op 'subtle'): `host('subtle', call, buffers)` answers `[error, json, buffers]`.
 * The host keeps nothing per key: a CryptoKey in the isolate holds its material and each call brings it.
 * Secret keys travel as bytes (buffers[0]), public and private keys as a JWK (`call.jwk`, JSON text,
 * key members only), which is what importKey/generateKey answered for them. `call` is JSON:
 *
 *   { op: 'sign',    alg: 'HMAC', hash }                        buffers [key, data]            → buffers [mac]
 *   { op: 'verify',  alg: 'HMAC', hash }                        buffers [key, data, signature] → json 'true' | 'false'
 *   { op: 'sign',    alg: 'ECDSA' | 'RSASSA-PKCS1-v1_5' | 'RSA-PSS', hash, jwk, saltLength? }
 *                                                                buffers [data]                 → buffers [signature]
 *   { op: 'verify',  (same) }                                    buffers [data, signature]      → json 'true' | 'false'
 *   { op: 'encrypt' | 'decrypt', alg: 'AES-GCM', tagLength }    buffers [key, iv, data, additionalData?] → buffers [result]
 *   { op: 'encrypt' | 'decrypt', alg: 'AES-CBC' }               buffers [key, iv, data]        → buffers [result]
 *   { op: 'encrypt' | 'decrypt', alg: 'AES-CTR', length }       buffers [key, counter, data]   → buffers [result]
 *   { op: 'encrypt' | 'decrypt', alg: 'RSA-OAEP', hash, jwk }   buffers [data, label?]         → buffers [result]
 *   { op: 'wrapKey' | 'unwrapKey', alg: 'AES-KW' }              buffers [key, data]            → buffers [result]
 *   { op: 'deriveBits', alg: 'ECDH' | 'X25519', jwk, peerJwk, length | null }  buffers []       → buffers [bits]
 *   { op: 'importKey', alg, format: 'spki' | 'pkcs8' | 'raw', namedCurve? }  buffers [der or point] → json HostKey
 *   { op: 'importKey', alg, format: 'jwk', namedCurve?, jwk }   buffers []                     → json HostKey
 *   { op: 'exportKey', alg, format: 'spki' | 'pkcs8' | 'raw', jwk }          buffers []        → buffers [bytes]
 *   { op: 'generateKey', alg: 'ECDSA', namedCurve }             → json { publicKey: HostKey, privateKey: HostKey }
 *   { op: 'generateKey', alg: 'RSASSA-PKCS1-v1_5' | 'RSA-PSS', modulusLength, publicExponent }  → (same)
 *
 * hash is SHA-1/256/384/512, namedCurve P-256/384/521 (WebCrypto spellings). HostKey is
 * { type: 'public' | 'private', jwk: JSON text, namedCurve } for EC keys, { type, jwk, modulusLength,
 * publicExponent: hex } for RSA keys. `error` is '' on success, else "Name: message" with a WebCrypto
 * DOMException name (DataError for bad key material, OperationError for a failed operation, ...).
 *
 * Everything here comes from tenant code (through the runtime, which a tenant may have subverted): every
 * field is checked, nothing throws across the bridge, and sizes are capped (MAX_CALL_CHARS, MAX_BUFFER_BYTES, MAX_DIGEST_BYTES,
 * RSA moduli of at most 8192 bits, RSA generation of at most 4096 bits: a host call cannot be interrupted
 * by the CPU limit, so its own cost must stay bounded).
 */
import {
  ECDH,
  type Hash,
  type KeyObject,
  constants,
  createCipheriv,
  createDecipheriv,
  createECDH,
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  pbkdf2Sync,
  privateDecrypt,
  publicEncrypt,
  randomBytes,
  sign,
  timingSafeEqual,
  verify,
} from 'node:crypto';

/** WebCrypto digest names → node:crypto's; the runtime only sends these. */
/** MD5 for digest() only, as on Workers (call.hash() allows the SHA family alone). */
const DIGESTS: Record<string, string> = { 'SHA-1': 'sha1', 'SHA-256': 'sha256', 'SHA-384': 'sha384', 'SHA-512': 'sha512', MD5: 'md5' };
/** The hashes a key or signature may use (MD5 is for digest() only). */
const SHA_NAMES = ['SHA-1', 'SHA-256', 'SHA-384', 'SHA-512'] as const;
/** Output bytes per hash (RSA-PSS salt limits, PBKDF2 blocks). */
const DIGEST_BYTES: Record<string, number> = { 'SHA-1': 20, 'SHA-256': 32, 'SHA-384': 48, 'SHA-512': 64 };
/** WebCrypto curve names → OpenSSL's, and the size of a coordinate. */
const CURVES: Record<string, { openssl: string; bytes: number }> = {
  'P-256': { openssl: 'prime256v1', bytes: 32 },
  'P-384': { openssl: 'secp384r1', bytes: 48 },
  'P-521': { openssl: 'secp521r1', bytes: 66 },
};
const CURVE_NAMES: Record<string, string> = { prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' };
const TAG_BYTES = new Set([4, 8, 12, 13, 14, 15, 16]);

export const MAX_CALL_CHARS = 65536;
export const MAX_BUFFERS = 4;
/** Total bytes of one call's buffers. */
export const MAX_BUFFER_BYTES = 16 * 1024 * 1024;
/**
 * Bytes one digest may hash: twice the default request body limit, so a worker can hash an upload it
 * read whole. SHA-256 runs at ~1 GB/s here, so at most ~60 ms the CPU limit cannot interrupt.
 */
export const MAX_DIGEST_BYTES = 64 * 1024 * 1024;
const MAX_RSA_BITS = 8192;
/** As workerd; and a host call cannot be interrupted by the CPU limit. */
const MAX_PBKDF2_ITERATIONS = 100_000;
/** A PBKDF2 password or salt (each iteration hashes them): passwords and salts are short. */
const MAX_KDF_INPUT_BYTES = 1024;
const MIN_RSA_GENERATE_BITS = 1024;
const MAX_RSA_GENERATE_BITS = 4096;

export type SubtleAnswer = [error: string, json: string, buffers: ArrayBuffer[]];

/** An answer to send back as "Name: message". */
class SubtleError extends Error {
  readonly domName: string;

  constructor(domName: string, message: string) {
    super(message);
    this.domName = domName;
  }
}

function fail(name: string, message: string): never {
  throw new SubtleError(name, message);
}

/** A new incremental hash for a digest algorithm's WebCrypto name (SHA-*, MD5), or null. */
export function createDigest(algorithm: unknown): Hash | null {
  return typeof algorithm === 'string' && Object.hasOwn(DIGESTS, algorithm) ? createHash(DIGESTS[algorithm]!) : null;
}

export function hostCrypto(op: 'digest' | 'randomBytes' | 'subtle', args: unknown[]): unknown {
  switch (op) {
    case 'digest': {
      const [algorithm, data] = args as [unknown, unknown];
      // Larger data is refused (null), never hashed as something else: the runtime rejects with an OperationError.
      if (!(data instanceof ArrayBuffer) || data.byteLength > MAX_DIGEST_BYTES) return null;
      return arrayBuffer((createDigest(algorithm) ?? createHash('sha256')).update(new Uint8Array(data)).digest());
    }
    case 'randomBytes': {
      const length = Math.min(65536, Math.max(0, Math.trunc(Number(args[0]) || 0)));
      return arrayBuffer(randomBytes(length));
    }
    case 'subtle':
      return subtle(args[0], args[1]);
  }
}

/** The bytes of `bytes` in an ArrayBuffer of their own (a Buffer may be a view into a shared pool). */
export function arrayBuffer(bytes: Buffer): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

/** One crypto.subtle call; never throws. */
export function subtle(callText: unknown, buffers: unknown): SubtleAnswer {
  try {
    if (typeof callText !== 'string' || callText.length > MAX_CALL_CHARS) fail('OperationError', 'Invalid call');
    let call: unknown;
    try {
      call = JSON.parse(callText);
    } catch {
      fail('OperationError', 'Invalid call');
    }
    if (typeof call !== 'object' || call === null || Array.isArray(call)) fail('OperationError', 'Invalid call');
    if (!Array.isArray(buffers) || buffers.length > MAX_BUFFERS) fail('OperationError', 'Invalid call');
    let total = 0;
    const bytes: Buffer[] = [];
    for (const buffer of buffers) {
      if (!(buffer instanceof ArrayBuffer)) fail('OperationError', 'Invalid call');
      total += buffer.byteLength;
      bytes.push(Buffer.from(buffer));
    }
    if (total > MAX_BUFFER_BYTES) fail('OperationError', `The data is larger than ${MAX_BUFFER_BYTES} bytes`);
    return run(new Call(call as Record<string, unknown>, bytes));
  } catch (error) {
    if (error instanceof SubtleError) return [`${error.domName}: ${error.message}`, '', []];
    return ['OperationError: The operation failed', '', []];
  }
}

/** Typed access to a call's fields and buffers; anything missing or mistyped fails the call. */
class Call {
  readonly fields: Record<string, unknown>;
  readonly buffers: Buffer[];

  constructor(fields: Record<string, unknown>, buffers: Buffer[]) {
    this.fields = fields;
    this.buffers = buffers;
  }

  string<T extends string>(name: string, allowed: readonly T[]): T {
    const value = this.fields[name];
    if (typeof value !== 'string' || !allowed.includes(value as T)) fail('OperationError', `Invalid '${name}'`);
    return value as T;
  }

  integer(name: string, min: number, max: number, error = 'OperationError'): number {
    const value = this.fields[name];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) fail(error, `Invalid '${name}'`);
    return value;
  }

  buffer(index: number): Buffer {
    const value = this.buffers[index];
    if (value === undefined) fail('OperationError', 'Missing data');
    return value;
  }

  count(min: number, max: number): void {
    if (this.buffers.length < min || this.buffers.length > max) fail('OperationError', 'Invalid call');
  }

  hash(): string {
    return DIGESTS[this.string('hash', SHA_NAMES)]!;
  }

  /** The output bytes of the call's hash. */
  hashBytes(): number {
    return DIGEST_BYTES[this.string('hash', SHA_NAMES)]!;
  }

  /** The call's JWK (field `field`): an object of strings with the members of `kty`'s keys only. */
  jwk(field = 'jwk'): Record<string, string> {
    const text = this.fields[field];
    if (typeof text !== 'string') fail('DataError', 'Missing JWK');
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      fail('DataError', 'Invalid JWK');
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) fail('DataError', 'Invalid JWK');
    const source = parsed as Record<string, unknown>;
    const members = source.kty === 'EC' ? ['crv', 'x', 'y', 'd'] : source.kty === 'RSA' ? ['n', 'e', 'd', 'p', 'q', 'dp', 'dq', 'qi'] : source.kty === 'OKP' ? ['crv', 'x', 'd'] : null;
    if (members === null) fail('DataError', 'The JWK "kty" member is not supported');
    const jwk: Record<string, string> = { kty: source.kty as string };
    for (const member of members) {
      const value = source[member];
      if (value === undefined) continue;
      if (typeof value !== 'string' || !/^[A-Za-z0-9_-]*$/.test(value)) fail('DataError', `The JWK "${member}" member is not base64url`);
      jwk[member] = value;
    }
    return jwk;
  }
}

function run(call: Call): SubtleAnswer {
  const op = call.string('op', ['sign', 'verify', 'encrypt', 'decrypt', 'wrapKey', 'unwrapKey', 'importKey', 'exportKey', 'generateKey', 'deriveBits']);
  switch (op) {
    case 'deriveBits':
      return deriveBits(call);
    case 'sign':
    case 'verify': {
      const alg = call.string('alg', ['HMAC', 'ECDSA', 'RSASSA-PKCS1-v1_5', 'RSA-PSS', 'Ed25519']);
      return alg === 'HMAC' ? hmac(call, op) : signature(call, op, alg);
    }
    case 'encrypt':
    case 'decrypt': {
      const alg = call.string('alg', ['AES-GCM', 'AES-CBC', 'AES-CTR', 'RSA-OAEP']);
      return alg === 'RSA-OAEP' ? rsaOaep(call, op) : alg === 'AES-CTR' ? aesCtr(call) : aes(call, op, alg);
    }
    case 'wrapKey':
    case 'unwrapKey':
      call.string('alg', ['AES-KW']);
      return aesKeyWrap(call, op);
    case 'importKey':
      return importKey(call);
    case 'exportKey':
      return exportKey(call);
    case 'generateKey':
      return generateKey(call);
  }
}

function bytesAnswer(bytes: Buffer): SubtleAnswer {
  return ['', '', [arrayBuffer(bytes)]];
}

function hmac(call: Call, op: 'sign' | 'verify'): SubtleAnswer {
  call.count(op === 'sign' ? 2 : 3, op === 'sign' ? 2 : 3);
  const key = call.buffer(0);
  if (key.length === 0) fail('DataError', 'Empty HMAC key');
  const mac = createHmac(call.hash(), key).update(call.buffer(1)).digest();
  if (op === 'sign') return bytesAnswer(mac);
  const given = call.buffer(2);
  return ['', String(given.length === mac.length && timingSafeEqual(given, mac)), []];
}

/**
 * ECDSA, RSA and Ed25519 signatures; the key is the call's JWK. Ed25519
 * (https://wicg.github.io/webcrypto-secure-curves/#ed25519) has no hash and 64-byte signatures.
 */
function signature(call: Call, op: 'sign' | 'verify', alg: 'ECDSA' | 'RSASSA-PKCS1-v1_5' | 'RSA-PSS' | 'Ed25519'): SubtleAnswer {
  call.count(op === 'sign' ? 1 : 2, op === 'sign' ? 1 : 2);
  const hash = alg === 'Ed25519' ? null : call.hash();
  const key = keyFromJwk(call.jwk(), kindOf(alg), op === 'sign' ? 'private' : 'public');
  const data = call.buffer(0);
  let options: Parameters<typeof sign>[2];
  if (alg === 'Ed25519') {
    options = key;
  } else if (alg === 'ECDSA') {
    options = { key, dsaEncoding: 'ieee-p1363' };
  } else if (alg === 'RSA-PSS') {
    const maxSalt = Math.ceil((key.asymmetricKeyDetails!.modulusLength! - 1) / 8) - call.hashBytes() - 2;
    const saltLength = call.integer('saltLength', 0, 0xffffffff);
    if (saltLength > maxSalt) {
      if (op === 'verify') return ['', 'false', []];
      fail('OperationError', 'The salt length is too large for the key');
    }
    options = { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength };
  } else {
    options = { key, padding: constants.RSA_PKCS1_PADDING };
  }
  if (op === 'sign') {
    try {
      return bytesAnswer(sign(hash, data, options));
    } catch {
      fail('OperationError', 'Signing failed');
    }
  }
  const given = call.buffer(1);
  if (alg === 'ECDSA' && given.length !== 2 * CURVES[CURVE_NAMES[key.asymmetricKeyDetails!.namedCurve!]!]!.bytes) return ['', 'false', []];
  if (alg === 'Ed25519' && given.length !== 64) return ['', 'false', []];
  let valid = false;
  try {
    valid = verify(hash, data, options, given);
  } catch {
    valid = false;
  }
  return ['', String(valid), []];
}

/**
 * PBKDF2 and HKDF: buffers are the key, the salt and (HKDF) the info. The runtime checks the
 * standard's rules; the bounds are checked again here, since they bound this call's cost.
 */
function deriveBits(call: Call): SubtleAnswer {
  const alg = call.string('alg', ['PBKDF2', 'HKDF', 'ECDH', 'X25519']);
  if (alg === 'ECDH' || alg === 'X25519') return agreedBits(call, alg);
  call.count(alg === 'PBKDF2' ? 2 : 3, alg === 'PBKDF2' ? 2 : 3);
  const hash = call.hash();
  const bytes = call.integer('length', 8, 255 * 64 * 8) / 8;
  if (!Number.isInteger(bytes)) fail('OperationError', 'The length must be a multiple of 8 bits');
  const key = call.buffer(0);
  const salt = call.buffer(1);
  if (alg === 'PBKDF2') {
    const iterations = call.integer('iterations', 1, MAX_PBKDF2_ITERATIONS);
    // Every block of output repeats every iteration, and each hashes the salt again: the iteration
    // cap alone allowed ~25 s of one uninterruptible call (255 blocks of SHA-1, or a 16 MiB salt).
    const blocks = Math.ceil(bytes / call.hashBytes());
    if (iterations * blocks > MAX_PBKDF2_ITERATIONS) fail('NotSupportedError', `PBKDF2 of ${bytes * 8} bits at ${iterations} iterations is more work than one call may do (at most ${MAX_PBKDF2_ITERATIONS} iterations × output blocks)`);
    if (salt.length > MAX_KDF_INPUT_BYTES || key.length > MAX_KDF_INPUT_BYTES) fail('NotSupportedError', `PBKDF2 keys and salts of more than ${MAX_KDF_INPUT_BYTES} bytes are not supported`);
    return bytesAnswer(pbkdf2Sync(key, salt, iterations, bytes, hash));
  }
  const info = call.buffer(2);
  if (info.length > 1024) fail('OperationError', 'The HKDF info is longer than 1024 bytes');
  try {
    return bytesAnswer(Buffer.from(hkdfSync(hash, key, salt, info, bytes)));
  } catch {
    fail('OperationError', 'The length is too large for HKDF with this hash');
  }
}

function aes(call: Call, op: 'encrypt' | 'decrypt', alg: 'AES-GCM' | 'AES-CBC'): SubtleAnswer {
  const gcm = alg === 'AES-GCM';
  call.count(3, gcm ? 4 : 3);
  const key = aesKey(call);
  const iv = call.buffer(1);
  const data = call.buffer(2);
  const cipherName = `aes-${key.length * 8}-${gcm ? 'gcm' : 'cbc'}`;
  if (!gcm) {
    if (iv.length !== 16) fail('OperationError', 'The AES-CBC iv must be 16 bytes');
    try {
      const cipher = op === 'encrypt' ? createCipheriv(cipherName, key, iv) : createDecipheriv(cipherName, key, iv);
      return bytesAnswer(Buffer.concat([cipher.update(data), cipher.final()]));
    } catch {
      fail('OperationError', op === 'encrypt' ? 'Encryption failed' : 'The data could not be decrypted');
    }
  }
  if (iv.length === 0) fail('OperationError', 'The AES-GCM iv must not be empty');
  const tagBytes = call.integer('tagLength', 32, 128) / 8;
  if (!TAG_BYTES.has(tagBytes)) fail('OperationError', 'Invalid AES-GCM tag length');
  const aad = call.buffers[3];
  if (op === 'encrypt') {
    const cipher = createCipheriv(cipherName as 'aes-128-gcm', key, iv, { authTagLength: tagBytes });
    if (aad !== undefined && aad.length > 0) cipher.setAAD(aad);
    const out = Buffer.concat([cipher.update(data), cipher.final(), cipher.getAuthTag()]);
    return bytesAnswer(out);
  }
  if (data.length < tagBytes) fail('OperationError', 'The data is shorter than the tag');
  try {
    const decipher = createDecipheriv(cipherName as 'aes-128-gcm', key, iv, { authTagLength: tagBytes });
    decipher.setAuthTag(data.subarray(data.length - tagBytes));
    if (aad !== undefined && aad.length > 0) decipher.setAAD(aad);
    return bytesAnswer(Buffer.concat([decipher.update(data.subarray(0, data.length - tagBytes)), decipher.final()]));
  } catch {
    fail('OperationError', 'The data could not be decrypted');
  }
}

/**
 * ECDH and X25519: the shared secret of the private key `jwk` and the public key `peerJwk`, whole
 * (`length` null) or its first `length` bits.
 */
function agreedBits(call: Call, alg: 'ECDH' | 'X25519'): SubtleAnswer {
  call.count(0, 0);
  const kind: KeyKind = alg === 'ECDH' ? 'ec' : 'x25519';
  const privateKey = keyFromJwk(call.jwk(), kind, 'private');
  const publicKey = keyFromJwk(call.jwk('peerJwk'), kind, 'public');
  if (kind === 'ec' && privateKey.asymmetricKeyDetails?.namedCurve !== publicKey.asymmetricKeyDetails?.namedCurve) fail('InvalidAccessError', 'The keys are on different curves');
  let secret: Buffer;
  try {
    secret = diffieHellman({ privateKey, publicKey });
  } catch {
    fail('OperationError', 'The key agreement failed');
  }
  // X25519 with a small-order point gives all zeros (https://wicg.github.io/webcrypto-secure-curves/#x25519-operations).
  if (kind === 'x25519' && secret.every((byte) => byte === 0)) fail('OperationError', 'The shared secret is all zeros');
  if (call.fields.length === null || call.fields.length === undefined) return bytesAnswer(secret);
  const bits = call.integer('length', 0, secret.length * 8);
  const out = Buffer.from(secret.subarray(0, Math.ceil(bits / 8)));
  if (bits % 8 !== 0) out[out.length - 1]! &= (0xff << (8 - (bits % 8))) & 0xff;
  return bytesAnswer(out);
}

/** The AES key of buffer 0; DataError unless it is 128, 192 or 256 bits. */
function aesKey(call: Call): Buffer {
  const key = call.buffer(0);
  if (key.length !== 16 && key.length !== 24 && key.length !== 32) fail('DataError', 'Invalid AES key length');
  return key;
}

/**
 * AES-CTR: buffers are the key, the 16-byte counter block and the data. The counter is the block's
 * rightmost `length` bits and wraps within them (https://w3c.github.io/webcrypto/#aes-ctr-operations-encrypt);
 * OpenSSL's CTR carries into the whole block, so data that passes the wrap is done in two parts.
 * Encrypting and decrypting are the same operation.
 */
function aesCtr(call: Call): SubtleAnswer {
  call.count(3, 3);
  const key = aesKey(call);
  const counter = call.buffer(1);
  const data = call.buffer(2);
  if (counter.length !== 16) fail('OperationError', 'The AES-CTR counter must be 16 bytes');
  const bits = BigInt(call.integer('length', 1, 128));
  const mask = (1n << bits) - 1n;
  const blocks = BigInt(Math.ceil(data.length / 16));
  if (blocks > mask + 1n) fail('OperationError', 'The data is longer than the counter can count');
  const start = BigInt(`0x${counter.toString('hex')}`);
  const untilWrap = mask + 1n - (start & mask);
  const name = `aes-${key.length * 8}-ctr`;
  const run = (block: Buffer, part: Buffer) => {
    const cipher = createCipheriv(name, key, block);
    return Buffer.concat([cipher.update(part), cipher.final()]);
  };
  if (blocks <= untilWrap) return bytesAnswer(run(counter, data));
  const split = Number(untilWrap) * 16;
  const wrapped = Buffer.from((start & ~mask).toString(16).padStart(32, '0'), 'hex');
  return bytesAnswer(Buffer.concat([run(counter, data.subarray(0, split)), run(wrapped, data.subarray(split))]));
}

/** AES-KW (RFC 3394): buffers are the key and the key material to wrap, or the wrapped key. */
function aesKeyWrap(call: Call, op: 'wrapKey' | 'unwrapKey'): SubtleAnswer {
  call.count(2, 2);
  const key = aesKey(call);
  const data = call.buffer(1);
  if (data.length % 8 !== 0 || data.length < (op === 'wrapKey' ? 16 : 24)) fail('OperationError', 'Invalid AES-KW data length');
  const name = `id-aes${key.length * 8}-wrap`;
  const iv = Buffer.from('a6a6a6a6a6a6a6a6', 'hex');
  try {
    const cipher = op === 'wrapKey' ? createCipheriv(name, key, iv) : createDecipheriv(name, key, iv);
    return bytesAnswer(Buffer.concat([cipher.update(data), cipher.final()]));
  } catch {
    fail('OperationError', op === 'wrapKey' ? 'Wrapping failed' : 'The data could not be unwrapped');
  }
}

/** RSA-OAEP: buffers are the data and the label, if any; the key is the call's JWK. */
function rsaOaep(call: Call, op: 'encrypt' | 'decrypt'): SubtleAnswer {
  call.count(1, 2);
  const key = keyFromJwk(call.jwk(), 'rsa', op === 'encrypt' ? 'public' : 'private');
  const options = { key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: call.hash(), oaepLabel: call.buffers[1] };
  try {
    return bytesAnswer(op === 'encrypt' ? publicEncrypt(options, call.buffer(0)) : privateDecrypt(options, call.buffer(0)));
  } catch {
    fail('OperationError', op === 'encrypt' ? 'The data is too long for this key and hash' : 'The data could not be decrypted');
  }
}

type KeyKind = 'ec' | 'rsa' | 'ed25519' | 'x25519';
const KTY: Record<KeyKind, string> = { ec: 'EC', rsa: 'RSA', ed25519: 'OKP', x25519: 'OKP' };
/** The JWK "crv" of an OKP key kind. */
const OKP_CURVES: Partial<Record<KeyKind, string>> = { ed25519: 'Ed25519', x25519: 'X25519' };

/** A KeyObject of kind `kind` and `type` from a JWK; DataError if it is not one. */
function keyFromJwk(jwk: Record<string, string>, kind: KeyKind, type: 'public' | 'private'): KeyObject {
  if (jwk.kty !== KTY[kind]) fail('DataError', 'The key is of the wrong type');
  const okpCurve = OKP_CURVES[kind];
  if (okpCurve !== undefined && (jwk.crv !== okpCurve || b64(jwk.x).length !== 32 || (jwk.d !== undefined && b64(jwk.d).length !== 32))) fail('DataError', `Invalid ${okpCurve} key data`);
  if (type === 'private' && jwk.d === undefined) fail('InvalidAccessError', 'The key is not a private key');
  if (kind === 'ec' && !Object.hasOwn(CURVES, jwk.crv ?? '')) fail('NotSupportedError', 'Unsupported named curve');
  // Bound the cost before OpenSSL sees the numbers: n up to 8192 bits, e up to 64 bits.
  if (kind === 'rsa' && ((jwk.n?.length ?? 0) > Math.ceil(MAX_RSA_BITS / 6) + 1 || (jwk.e?.length ?? 0) > 11)) {
    fail('NotSupportedError', `RSA keys larger than ${MAX_RSA_BITS} bits are not supported`);
  }
  let key: KeyObject;
  try {
    key = type === 'private' ? createPrivateKey({ key: jwk, format: 'jwk' }) : createPublicKey({ key: jwk, format: 'jwk' });
  } catch {
    fail('DataError', 'Invalid key data');
  }
  return checked(key, kind);
}

/** `key` if it is of kind `kind` and within the limits. */
function checked(key: KeyObject, kind: KeyKind): KeyObject {
  if (key.asymmetricKeyType !== kind) fail('DataError', `The key is not an ${OKP_CURVES[kind] ?? KTY[kind]} key`);
  const details = key.asymmetricKeyDetails ?? {};
  if (kind === 'ec' && !Object.hasOwn(CURVE_NAMES, details.namedCurve ?? '')) fail('NotSupportedError', 'Unsupported named curve');
  if (kind === 'rsa') {
    if ((details.modulusLength ?? 0) > MAX_RSA_BITS) fail('NotSupportedError', `RSA keys larger than ${MAX_RSA_BITS} bits are not supported`);
    if ((details.publicExponent ?? 0n) > 0xffffffffffffffffn) fail('NotSupportedError', 'RSA public exponents larger than 64 bits are not supported');
  }
  return key;
}

/** What the runtime keeps of a key: its JWK and the details its `algorithm` shows. */
function describe(key: KeyObject): Record<string, unknown> {
  const exported = key.export({ format: 'jwk' });
  const details = key.asymmetricKeyDetails ?? {};
  const info: Record<string, unknown> = { type: key.type, jwk: JSON.stringify(exported) };
  if (key.asymmetricKeyType === 'ec') {
    info.namedCurve = CURVE_NAMES[details.namedCurve!];
  } else if (key.asymmetricKeyType === 'rsa') {
    info.modulusLength = details.modulusLength;
    let hex = details.publicExponent!.toString(16);
    if (hex.length % 2 === 1) hex = `0${hex}`;
    info.publicExponent = hex;
  }
  return info;
}

function b64(text: string | undefined): Buffer {
  return Buffer.from(text ?? '', 'base64url');
}

function kindOf(alg: (typeof KEY_ALGORITHMS)[number]): KeyKind {
  return alg === 'ECDSA' || alg === 'ECDH' ? 'ec' : alg === 'Ed25519' ? 'ed25519' : alg === 'X25519' ? 'x25519' : 'rsa';
}

/** The algorithms whose keys the host imports, exports and generates. */
const KEY_ALGORITHMS = ['ECDSA', 'ECDH', 'RSASSA-PKCS1-v1_5', 'RSA-PSS', 'RSA-OAEP', 'Ed25519', 'X25519'] as const;

function importKey(call: Call): SubtleAnswer {
  const kind = kindOf(call.string('alg', KEY_ALGORITHMS));
  const format = call.string('format', kind === 'rsa' ? ['spki', 'pkcs8', 'jwk'] : ['spki', 'pkcs8', 'raw', 'jwk']);
  const namedCurve = kind === 'ec' ? call.string('namedCurve', ['P-256', 'P-384', 'P-521']) : undefined;
  const curve = namedCurve === undefined ? undefined : CURVES[namedCurve]!;
  let key: KeyObject;
  if (format === 'jwk') {
    call.count(0, 0);
    const jwk = call.jwk();
    key = keyFromJwk(jwk, kind, jwk.d === undefined ? 'public' : 'private');
    if (curve !== undefined) {
      if (jwk.crv !== namedCurve) fail('DataError', 'The JWK "crv" member does not match the named curve');
      const coordinates = [jwk.x, jwk.y, ...(jwk.d === undefined ? [] : [jwk.d])];
      if (coordinates.some((value) => b64(value).length !== curve.bytes)) fail('DataError', 'Invalid EC key coordinates');
      // node:crypto does not check that d belongs to x and y.
      if (jwk.d !== undefined) {
        const derived = ecPublicPoint(curve.openssl, b64(jwk.d));
        if (derived === null || !derived.equals(Buffer.concat([Buffer.of(4), b64(jwk.x), b64(jwk.y)]))) {
          fail('DataError', 'The JWK "d" member does not match "x" and "y"');
        }
      }
    } else if (kind === 'ed25519' || kind === 'x25519') {
      // As for EC: node:crypto takes d and does not check that it belongs to x.
      if (jwk.d !== undefined && createPublicKey(key).export({ format: 'jwk' }).x !== jwk.x) fail('DataError', 'The JWK "d" member does not match "x"');
    } else if (jwk.d !== undefined) {
      if ([jwk.p, jwk.q, jwk.dp, jwk.dq, jwk.qi].some((value) => value === undefined)) fail('DataError', 'RSA private JWKs need p, q, dp, dq and qi');
      if (bigint(jwk.p!) * bigint(jwk.q!) !== bigint(jwk.n!)) fail('DataError', 'The JWK "p" and "q" members do not match "n"');
    }
  } else {
    call.count(1, 1);
    const data = call.buffer(0);
    try {
      if (format === 'spki') key = createPublicKey({ key: data, format: 'der', type: 'spki' });
      else if (format === 'pkcs8') key = createPrivateKey({ key: data, format: 'der', type: 'pkcs8' });
      else if (kind === 'ed25519' || kind === 'x25519') {
        if (data.length !== 32) fail('DataError', `An ${OKP_CURVES[kind]!} public key is 32 bytes`);
        key = createPublicKey({ key: { kty: 'OKP', crv: OKP_CURVES[kind]!, x: data.toString('base64url') }, format: 'jwk' });
      } else {
        const point = ECDH.convertKey(data, curve!.openssl, undefined, undefined, 'uncompressed') as Buffer;
        const size = curve!.bytes;
        key = createPublicKey({
          key: { kty: 'EC', crv: namedCurve!, x: point.subarray(1, 1 + size).toString('base64url'), y: point.subarray(1 + size).toString('base64url') },
          format: 'jwk',
        });
      }
    } catch {
      fail('DataError', 'Invalid key data');
    }
    checked(key, kind);
    if (curve !== undefined && key.asymmetricKeyDetails?.namedCurve !== curve.openssl) fail('DataError', 'The key is not on the named curve');
  }
  return ['', JSON.stringify(describe(key)), []];
}

/** The uncompressed public point of private scalar `d`, or null if `d` is not a valid one. */
function ecPublicPoint(curve: string, d: Buffer): Buffer | null {
  try {
    const ecdh = createECDH(curve);
    ecdh.setPrivateKey(d);
    return ecdh.getPublicKey();
  } catch {
    return null;
  }
}

function bigint(text: string): bigint {
  const hex = b64(text).toString('hex');
  return hex === '' ? 0n : BigInt(`0x${hex}`);
}

function exportKey(call: Call): SubtleAnswer {
  call.count(0, 0);
  const kind = kindOf(call.string('alg', KEY_ALGORITHMS));
  const format = call.string('format', kind === 'rsa' ? ['spki', 'pkcs8'] : ['spki', 'pkcs8', 'raw']);
  const jwk = call.jwk();
  if (format === 'pkcs8') {
    return bytesAnswer(keyFromJwk(jwk, kind, 'private').export({ type: 'pkcs8', format: 'der' }));
  }
  const key = keyFromJwk(jwk, kind, 'public');
  if (format === 'spki') return bytesAnswer(key.export({ type: 'spki', format: 'der' }));
  const exported = key.export({ format: 'jwk' });
  if (kind !== 'ec') return bytesAnswer(b64(exported.x));
  return bytesAnswer(Buffer.concat([Buffer.of(4), b64(exported.x), b64(exported.y)]));
}

function generateKey(call: Call): SubtleAnswer {
  call.count(0, 0);
  const kind = kindOf(call.string('alg', KEY_ALGORITHMS));
  let pair: { publicKey: KeyObject; privateKey: KeyObject };
  if (kind === 'ed25519') {
    pair = generateKeyPairSync('ed25519');
  } else if (kind === 'x25519') {
    pair = generateKeyPairSync('x25519');
  } else if (kind === 'ec') {
    const curve = CURVES[call.string('namedCurve', ['P-256', 'P-384', 'P-521'])]!;
    pair = generateKeyPairSync('ec', { namedCurve: curve.openssl });
  } else {
    const modulusLength = call.integer('modulusLength', MIN_RSA_GENERATE_BITS, MAX_RSA_GENERATE_BITS);
    const publicExponent = call.integer('publicExponent', 3, 65537);
    if (publicExponent !== 3 && publicExponent !== 65537) fail('OperationError', 'The public exponent must be 3 or 65537');
    pair = generateKeyPairSync('rsa', { modulusLength, publicExponent });
  }
  return ['', JSON.stringify({ publicKey: describe(pair.publicKey), privateKey: describe(pair.privateKey) }), []];
}
