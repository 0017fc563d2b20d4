/**
 * Web IDL BufferSource / AllowSharedBufferSource handling (https://webidl.spec.whatwg.org/#BufferSource).
 * Brand checks use the intrinsic getters, which throw on anything that merely looks like a buffer
 * (a spoofed `Symbol.toStringTag` does not pass). A thrown exception costs microseconds (the stack is
 * captured), so hot paths ask in the order that usually succeeds.
 */
import {
  ArrayBufferIsView,
  ArrayBufferPrototypeGetByteLength,
  DataViewPrototypeGetBuffer,
  DataViewPrototypeGetByteLength,
  DataViewPrototypeGetByteOffset,
  SharedArrayBufferPrototypeGetByteLength,
  TypedArrayPrototypeGetBuffer,
  TypedArrayPrototypeGetByteLength,
  TypedArrayPrototypeGetByteOffset,
  TypedArrayPrototypeGetSymbolToStringTag,
  TypedArrayPrototypeGetLength,
  TypedArrayPrototypeSet,
  Uint8ArrayCtor,
} from '../primordials.ts';

export function isArrayBuffer(value: unknown): value is ArrayBuffer {
  if (typeof value !== 'object' || value === null) return false;
  try {
    ArrayBufferPrototypeGetByteLength(value as ArrayBuffer);
    return true;
  } catch {
    return false;
  }
}

export function isSharedArrayBuffer(value: unknown): value is SharedArrayBuffer {
  if (typeof value !== 'object' || value === null) return false;
  try {
    SharedArrayBufferPrototypeGetByteLength(value as SharedArrayBuffer);
    return true;
  } catch {
    return false;
  }
}

export function isTypedArray(value: unknown): value is ArrayBufferView {
  return TypedArrayPrototypeGetSymbolToStringTag(value) !== undefined;
}

/**
 * A Uint8Array over the bytes of `value` (no copy), or null when `value` is not a BufferSource.
 * SharedArrayBuffer (and views on one) only when `allowShared`.
 */
export function bufferSourceBytes(value: unknown, allowShared: boolean): Uint8Array | null {
  if (typeof value !== 'object' || value === null) return null;
  if (ArrayBufferIsView(value)) {
    let buffer: ArrayBufferLike;
    let offset: number;
    let length: number;
    if (isTypedArray(value)) {
      buffer = TypedArrayPrototypeGetBuffer(value);
      offset = TypedArrayPrototypeGetByteOffset(value);
      length = TypedArrayPrototypeGetByteLength(value);
    } else {
      buffer = DataViewPrototypeGetBuffer(value as DataView);
      offset = DataViewPrototypeGetByteOffset(value as DataView);
      length = DataViewPrototypeGetByteLength(value as DataView);
    }
    // A view's buffer is an ArrayBuffer or a SharedArrayBuffer: asking for the first does not throw in
    // the usual case (an exception costs microseconds).
    if (!allowShared && !isArrayBuffer(buffer)) return null;
    return new Uint8ArrayCtor(buffer, offset, length);
  }
  if (isArrayBuffer(value)) return new Uint8ArrayCtor(value);
  if (allowShared && isSharedArrayBuffer(value)) return new Uint8ArrayCtor(value);
  return null;
}

/** A fresh copy of `bytes` in its own ArrayBuffer (`set`, unlike `slice`, never consults @@species). */
export function copyBytes(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  const copy = new Uint8ArrayCtor(TypedArrayPrototypeGetLength(bytes));
  TypedArrayPrototypeSet(copy, bytes);
  return copy;
}

/** `bytes.subarray(start, end)` without @@species: a plain Uint8Array over the same memory. */
export function subarray(bytes: Uint8Array, start: number, end: number = TypedArrayPrototypeGetLength(bytes)): Uint8Array {
  return new Uint8ArrayCtor(TypedArrayPrototypeGetBuffer(bytes), TypedArrayPrototypeGetByteOffset(bytes) + start, end - start);
}
