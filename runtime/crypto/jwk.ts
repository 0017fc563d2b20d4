/**
 * JSON Web Keys (RFC 7517) on the way in and out of importKey/exportKey: the Web IDL JsonWebKey
 * dictionary conversion, the checks every key type makes (use, key_ops, ext), and the common members of
 * an exported JWK.
 */
import { ArrayIsArray, CONFIGURABLE, defineValue, ENUMERABLE, WRITABLE } from '../primordials.ts';
import { fail } from './errors.ts';
import { type Usages, usageList } from './key.ts';

/** A converted JsonWebKey dictionary (null prototype): only the members that were present. */
export interface JsonWebKey {
  alg?: string;
  crv?: string;
  d?: string;
  dp?: string;
  dq?: string;
  e?: string;
  ext?: boolean;
  k?: string;
  key_ops?: string[];
  kty?: string;
  n?: string;
  oth?: unknown;
  p?: string;
  q?: string;
  qi?: string;
  use?: string;
  x?: string;
  y?: string;
}

/** DOMString members, in the lexicographic order Web IDL reads dictionary members. */
const STRING_MEMBERS = ['alg', 'crv', 'd', 'dp', 'dq', 'e', 'ext', 'k', 'key_ops', 'kty', 'n', 'oth', 'p', 'q', 'qi', 'use', 'x', 'y'];

function append<T>(list: T[], value: T): void {
  defineValue(list, list.length, value, WRITABLE | ENUMERABLE | CONFIGURABLE);
}

/** Web IDL conversion of an importKey `keyData` to the JsonWebKey dictionary (TypeError if it cannot be one). */
export function toJsonWebKey(value: unknown): JsonWebKey {
  const jwk = { __proto__: null } as unknown as JsonWebKey;
  if (value === undefined || value === null) return jwk;
  if (typeof value !== 'object' && typeof value !== 'function') {
    throw new TypeError("Failed to execute 'importKey' on 'SubtleCrypto': The provided value is not of type 'JsonWebKey'.");
  }
  const source = value as Record<string, unknown>;
  const target = jwk as Record<string, unknown>;
  for (let i = 0; i < STRING_MEMBERS.length; i++) {
    const member = STRING_MEMBERS[i]!;
    const item = source[member];
    if (item === undefined) continue;
    if (member === 'ext') {
      target[member] = !!item;
    } else if (member === 'key_ops') {
      if (!ArrayIsArray(item)) {
        throw new TypeError("Failed to execute 'importKey' on 'SubtleCrypto': The provided value of 'key_ops' is not a sequence.");
      }
      const ops: string[] = [];
      for (let j = 0; j < item.length; j++) append(ops, `${item[j] as string}`);
      target[member] = ops;
    } else if (member === 'oth') {
      target[member] = item;
    } else {
      target[member] = `${item as string}`;
    }
  }
  return jwk;
}

/**
 * The checks of every JWK import: `kty`, `use` (when usages are asked for), `key_ops` (valid, and holding
 * every usage asked for) and `ext` (a non-extractable JWK cannot become an extractable key). DataError.
 */
export function checkJwk(jwk: JsonWebKey, kty: string, use: 'sig' | 'enc', usages: Usages, extractable: boolean): void {
  if (jwk.kty !== kty) fail('DataError', `The JWK "kty" member was not "${kty}"`);
  if (usages !== 0 && jwk.use !== undefined && jwk.use !== use) fail('DataError', `The JWK "use" member was not "${use}"`);
  const ops = jwk.key_ops;
  if (ops !== undefined) {
    const seen = { __proto__: null } as unknown as Record<string, true | undefined>;
    for (let i = 0; i < ops.length; i++) {
      if (seen[ops[i]!] === true) fail('DataError', 'The JWK "key_ops" member contains a duplicate');
      seen[ops[i]!] = true;
    }
    const wanted = usageList(usages);
    for (let i = 0; i < wanted.length; i++) {
      if (seen[wanted[i]!] !== true) fail('DataError', `The JWK "key_ops" member does not contain "${wanted[i]!}"`);
    }
  }
  if (jwk.ext === false && extractable) fail('DataError', 'The JWK "ext" member was false but the key is to be extractable');
}
