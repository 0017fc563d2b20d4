/**
 * The SubtleCrypto interface workers see (the `SubtleCrypto` global, `crypto.subtle`'s class). Its
 * methods make the web-crypto chunk (web-crypto.ts, where subtle.ts does the work) on their first call,
 * not when `crypto.subtle` is read: libraries read it when they load, to feature-detect (Hono's etag()
 * and jwt middleware, at the worker's top level), and making the chunk there cost the cold start of
 * every such worker ~0.65 ms, whether or not a request ever hashed or signed.
 */
import type { SubtleCrypto as SubtleCryptoWork } from './subtle.ts';
import { loadWebCrypto } from './web-crypto.ts';
import { nameClass } from '../global/define.ts';
import { ReflectApply } from '../primordials.ts';

type Method = Exclude<keyof SubtleCryptoWork, 'constructor'>;

/** subtle.ts's method `method`, called with what the worker passed (its count matters: missing arguments are a TypeError). */
function call(method: Method, receiver: unknown, args: IArguments): any {
  return ReflectApply(loadWebCrypto().SubtleCrypto.prototype[method], receiver, args);
}

// The parameters are the methods' `length`s, as the Web Crypto spec has them; the work takes them from `arguments`.
function defineSubtleCrypto() {
  class SubtleCrypto {
    constructor() {
      throw new TypeError('Illegal constructor');
    }

    encrypt(algorithm: unknown, key: unknown, data: unknown): Promise<ArrayBuffer> {
      return call('encrypt', this, arguments);
    }

    decrypt(algorithm: unknown, key: unknown, data: unknown): Promise<ArrayBuffer> {
      return call('decrypt', this, arguments);
    }

    sign(algorithm: unknown, key: unknown, data: unknown): Promise<ArrayBuffer> {
      return call('sign', this, arguments);
    }

    verify(algorithm: unknown, key: unknown, signature: unknown, data: unknown): Promise<boolean> {
      return call('verify', this, arguments);
    }

    timingSafeEqual(a: unknown, b: unknown): boolean {
      return call('timingSafeEqual', this, arguments);
    }

    digest(algorithm: unknown, data: unknown): Promise<ArrayBuffer> {
      return call('digest', this, arguments);
    }

    generateKey(algorithm: unknown, extractable: unknown, keyUsages: unknown): Promise<unknown> {
      return call('generateKey', this, arguments);
    }

    importKey(format: unknown, keyData: unknown, algorithm: unknown, extractable: unknown, keyUsages: unknown): Promise<unknown> {
      return call('importKey', this, arguments);
    }

    exportKey(format: unknown, key: unknown): Promise<unknown> {
      return call('exportKey', this, arguments);
    }

    deriveKey(algorithm: unknown, baseKey: unknown, derivedKeyType: unknown, extractable: unknown, keyUsages: unknown): Promise<unknown> {
      return call('deriveKey', this, arguments);
    }

    deriveBits(algorithm: unknown, baseKey: unknown): Promise<ArrayBuffer> {
      return call('deriveBits', this, arguments);
    }

    wrapKey(format: unknown, key: unknown, wrappingKey: unknown, wrapAlgorithm: unknown): Promise<ArrayBuffer> {
      return call('wrapKey', this, arguments);
    }

    unwrapKey(format: unknown, wrappedKey: unknown, unwrappingKey: unknown, unwrapAlgorithm: unknown, unwrappedKeyAlgorithm: unknown, extractable: unknown, keyUsages: unknown): Promise<unknown> {
      return call('unwrapKey', this, arguments);
    }
  }
  nameClass(SubtleCrypto, 'SubtleCrypto');
  return { SubtleCrypto };
}

let defined: ReturnType<typeof defineSubtleCrypto> | null = null;

/** The class, defined on first use (runtime/global/lazy-globals.ts). */
export function loadSubtleCrypto(): ReturnType<typeof defineSubtleCrypto> {
  return (defined ??= defineSubtleCrypto());
}

export type SubtleCrypto = InstanceType<ReturnType<typeof defineSubtleCrypto>['SubtleCrypto']>;
