/** The DOMExceptions crypto.subtle rejects with (https://w3c.github.io/webcrypto/#dfn-error-names). */
import { DOMException } from '../global/dom-exception.ts';

export type CryptoErrorName = 'NotSupportedError' | 'InvalidAccessError' | 'DataError' | 'OperationError' | 'SyntaxError';

const NAMES: Record<string, true | undefined> = {
  __proto__: null,
  NotSupportedError: true, InvalidAccessError: true, DataError: true, OperationError: true, SyntaxError: true,
} as unknown as Record<string, true | undefined>;

export function fail(name: CryptoErrorName, message: string): never {
  throw new DOMException(message, name);
}

/** A name the host sent back, if it is one of ours; anything else is an OperationError. */
export function errorName(name: string): CryptoErrorName {
  return NAMES[name] === true ? (name as CryptoErrorName) : 'OperationError';
}
