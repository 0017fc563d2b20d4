/**
 * DOMException (https://webidl.spec.whatwg.org/#idl-DOMException). Its prototype chains to
 * Error.prototype, as the spec says, so `instanceof Error` holds and stacks are captured.
 */
import { CONFIGURABLE, defineValue, ENUMERABLE, ObjectHasOwn, WRITABLE } from '../primordials.ts';
import { nameClass } from './define.ts';

// https://webidl.spec.whatwg.org/#dfn-error-names-table: the names that have a legacy code.
const LEGACY_CODES: Record<string, number> = {
  __proto__: null as never,
  IndexSizeError: 1,
  HierarchyRequestError: 3,
  WrongDocumentError: 4,
  InvalidCharacterError: 5,
  NoModificationAllowedError: 7,
  NotFoundError: 8,
  NotSupportedError: 9,
  InvalidStateError: 11,
  SyntaxError: 12,
  InvalidModificationError: 13,
  NamespaceError: 14,
  InvalidAccessError: 15,
  TypeMismatchError: 17,
  SecurityError: 18,
  NetworkError: 19,
  AbortError: 20,
  URLMismatchError: 21,
  QuotaExceededError: 22,
  TimeoutError: 23,
  InvalidNodeTypeError: 24,
  DataCloneError: 25,
};

const CONSTANTS: Record<string, number> = {
  INDEX_SIZE_ERR: 1,
  DOMSTRING_SIZE_ERR: 2,
  HIERARCHY_REQUEST_ERR: 3,
  WRONG_DOCUMENT_ERR: 4,
  INVALID_CHARACTER_ERR: 5,
  NO_DATA_ALLOWED_ERR: 6,
  NO_MODIFICATION_ALLOWED_ERR: 7,
  NOT_FOUND_ERR: 8,
  NOT_SUPPORTED_ERR: 9,
  INUSE_ATTRIBUTE_ERR: 10,
  INVALID_STATE_ERR: 11,
  SYNTAX_ERR: 12,
  INVALID_MODIFICATION_ERR: 13,
  NAMESPACE_ERR: 14,
  INVALID_ACCESS_ERR: 15,
  VALIDATION_ERR: 16,
  TYPE_MISMATCH_ERR: 17,
  SECURITY_ERR: 18,
  NETWORK_ERR: 19,
  ABORT_ERR: 20,
  URL_MISMATCH_ERR: 21,
  QUOTA_EXCEEDED_ERR: 22,
  TIMEOUT_ERR: 23,
  INVALID_NODE_TYPE_ERR: 24,
  DATA_CLONE_ERR: 25,
};

let partsOf: (value: object) => { name: string; message: string } | null;

export class DOMException extends Error {
  #name: string;
  #message: string;

  // https://webidl.spec.whatwg.org/#dom-domexception-domexception
  constructor(message: unknown = '', options: unknown = 'Error') {
    const text = `${message as string}`;
    // V8 formats the stack's first line from the message given to Error, not from the getter.
    super(text);
    // ...but the spec's `message` is the prototype's getter, not an own property.
    delete (this as { message?: string }).message;
    this.#message = text;
    if (typeof options === 'object' && options !== null) {
      const { name, cause } = options as { name?: unknown; cause?: unknown };
      this.#name = name === undefined ? 'Error' : `${name as string}`;
      if ('cause' in options) defineValue(this, 'cause', cause, WRITABLE | CONFIGURABLE);
    } else {
      this.#name = `${options as string}`;
    }
  }

  override get name(): string {
    return this.#name;
  }

  override get message(): string {
    return this.#message;
  }

  static {
    partsOf = (value) => (#name in value ? { name: value.#name, message: value.#message } : null);
  }

  get code(): number {
    const name = this.#name;
    return ObjectHasOwn(LEGACY_CODES, name) ? LEGACY_CODES[name]! : 0;
  }
}
nameClass(DOMException, 'DOMException');

for (const key in CONSTANTS) {
  defineValue(DOMException, key, CONSTANTS[key], ENUMERABLE);
  defineValue(DOMException.prototype, key, CONSTANTS[key], ENUMERABLE);
}

/** Name and message of a real DOMException (brand-checked), or null. For structuredClone. */
export function domExceptionParts(value: object): { name: string; message: string } | null {
  return partsOf(value);
}
