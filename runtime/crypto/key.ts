/**
 * CryptoKey (https://w3c.github.io/webcrypto/#cryptokey-interface). A key holds its own material: the
 * bytes of a secret key, or the JWK (as JSON text, canonical as the host exported it) of a public or
 * private key. The host keeps nothing per key; every operation sends the material along. The
 * material and the internal slots live in a private field that tenant code cannot reach or forge;
 * `algorithm` and `usages` hand out cached copies, so changing them changes nothing.
 */
import { copyBytes } from '../encoding/buffer-source.ts';
import { nameClass } from '../global/define.ts';
import {
  ArrayIsArray,
  CONFIGURABLE,
  defineValue,
  ENUMERABLE,
  ReflectApply,
  SymbolIterator,
  WRITABLE,
} from '../primordials.ts';
import type { HashName } from './algorithms.ts';
import { fail } from './errors.ts';

export type KeyType = 'secret' | 'public' | 'private';
export type KeyUsage = 'encrypt' | 'decrypt' | 'sign' | 'verify' | 'deriveKey' | 'deriveBits' | 'wrapKey' | 'unwrapKey';

/** The usages in the order keys report them. */
const USAGE_ORDER: KeyUsage[] = ['encrypt', 'decrypt', 'sign', 'verify', 'deriveKey', 'deriveBits', 'wrapKey', 'unwrapKey'];
const USAGE_BIT: Record<string, number | undefined> = {
  __proto__: null,
  encrypt: 1, decrypt: 2, sign: 4, verify: 8, deriveKey: 16, deriveBits: 32, wrapKey: 64, unwrapKey: 128,
} as unknown as Record<string, number | undefined>;

/** A set of usages as a bit mask. */
export type Usages = number;

/** The [[algorithm]] slot: a normalized algorithm's key-related members only. */
export interface KeyAlgorithm {
  name: string;
  hash?: HashName;
  length?: number;
  namedCurve?: string;
  modulusLength?: number;
  publicExponent?: Uint8Array<ArrayBuffer>;
}

export interface KeySlots {
  type: KeyType;
  extractable: boolean;
  algorithm: KeyAlgorithm;
  usages: Usages;
  /** Secret keys: the key bytes, in an ArrayBuffer of their own (copied across the bridge, never handed out). */
  secret: ArrayBuffer | null;
  /** Public and private keys: the JWK's JSON (key fields only). */
  jwk: string | null;
}

const CONSTRUCT = {};
let slotsOf: (value: unknown) => KeySlots | null;

export class CryptoKey {
  #slots: KeySlots;
  #algorithm: object;
  #usages: KeyUsage[];

  constructor(token?: unknown, slots?: KeySlots) {
    if (token !== CONSTRUCT || slots === undefined) throw new TypeError('Illegal constructor');
    this.#slots = slots;
    this.#algorithm = algorithmObject(slots.algorithm);
    this.#usages = usageList(slots.usages);
  }

  get type(): KeyType {
    return this.#slots.type;
  }

  get extractable(): boolean {
    return this.#slots.extractable;
  }

  get algorithm(): object {
    return this.#algorithm;
  }

  get usages(): KeyUsage[] {
    return this.#usages;
  }

  static {
    slotsOf = (value) => (typeof value === 'object' && value !== null && #slots in value ? value.#slots : null);
  }
}
nameClass(CryptoKey, 'CryptoKey');

export function createKey(
  type: KeyType,
  extractable: boolean,
  algorithm: KeyAlgorithm,
  usages: Usages,
  secret: ArrayBuffer | null,
  jwk: string | null,
): CryptoKey {
  return new CryptoKey(CONSTRUCT, { type, extractable, algorithm, usages, secret, jwk });
}

/** The internal slots of a CryptoKey, or a TypeError (Web IDL conversion of a `CryptoKey` argument). */
export function keySlots(value: unknown, method: string, position: number): KeySlots {
  const slots = slotsOf(value);
  if (slots === null) {
    throw new TypeError(`Failed to execute '${method}' on 'SubtleCrypto': parameter ${position} is not of type 'CryptoKey'.`);
  }
  return slots;
}

/** The cached `algorithm` object tenant code sees (KeyAlgorithm and its subtypes as plain objects). */
function algorithmObject(algorithm: KeyAlgorithm): object {
  const name = algorithm.name;
  if (algorithm.namedCurve !== undefined) return { name, namedCurve: algorithm.namedCurve };
  if (algorithm.modulusLength !== undefined) {
    const exponent = copyBytes(algorithm.publicExponent!);
    return { name, modulusLength: algorithm.modulusLength, publicExponent: exponent, hash: { name: algorithm.hash! } };
  }
  if (algorithm.hash !== undefined) return { name, length: algorithm.length!, hash: { name: algorithm.hash } };
  if (algorithm.length !== undefined) return { name, length: algorithm.length };
  return { name };
}

function append<T>(list: T[], value: T): void {
  defineValue(list, list.length, value, WRITABLE | ENUMERABLE | CONFIGURABLE);
}

/** The usages of a mask as a list, in the usual order. */
export function usageList(usages: Usages): KeyUsage[] {
  const list: KeyUsage[] = [];
  for (let i = 0; i < USAGE_ORDER.length; i++) {
    if ((usages & (1 << i)) !== 0) append(list, USAGE_ORDER[i]!);
  }
  return list;
}

export function hasUsage(usages: Usages, usage: KeyUsage): boolean {
  return (usages & USAGE_BIT[usage]!) !== 0;
}

/** A mask of the given usage names (all valid KeyUsage values). */
export function usageMask(...names: KeyUsage[]): Usages {
  let mask = 0;
  for (let i = 0; i < names.length; i++) mask |= USAGE_BIT[names[i]!]!;
  return mask;
}

/** Throws SyntaxError unless every usage is in `allowed`. */
export function checkUsages(usages: Usages, allowed: Usages): void {
  if ((usages & ~allowed) !== 0) fail('SyntaxError', 'Cannot create a key using the specified key usages.');
}

/** The KeyUsage value of a string, or TypeError (Web IDL enum conversion). */
function toUsage(value: unknown): number {
  const text = `${value as string}`;
  const bit = USAGE_BIT[text];
  if (bit === undefined) {
    throw new TypeError(`Failed to execute on 'SubtleCrypto': The provided value '${text}' is not a valid enum value of type KeyUsage.`);
  }
  return bit;
}

/**
 * A `sequence<KeyUsage>` argument as a mask. Arrays are read by index (no reliance on a
 * possibly replaced Array.prototype[Symbol.iterator]); other iterables through their iterator.
 */
export function toUsages(value: unknown): Usages {
  if ((typeof value !== 'object' && typeof value !== 'function') || value === null) {
    throw new TypeError("Failed to execute on 'SubtleCrypto': The provided value cannot be converted to a sequence.");
  }
  let mask = 0;
  if (ArrayIsArray(value)) {
    for (let i = 0; i < value.length; i++) mask |= toUsage(value[i]);
    return mask;
  }
  const method = (value as { [SymbolIterator]?: unknown })[SymbolIterator];
  if (typeof method !== 'function') {
    throw new TypeError("Failed to execute on 'SubtleCrypto': The object must have a callable @@iterator property.");
  }
  const iterator = ReflectApply(method, value, []) as { next: () => { done?: unknown; value?: unknown } };
  const next = iterator.next;
  for (;;) {
    const step = ReflectApply(next, iterator, []) as { done?: unknown; value?: unknown };
    if (typeof step !== 'object' || step === null) throw new TypeError('Iterator result is not an object');
    if (step.done) return mask;
    mask |= toUsage(step.value);
  }
}
