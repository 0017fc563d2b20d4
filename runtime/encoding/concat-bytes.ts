/** Joins byte chunks into a new Uint8Array: always a copy, so the result never aliases a caller's buffer. */
import { TypedArrayPrototypeGetLength, TypedArrayPrototypeSet, Uint8ArrayCtor } from '../primordials.ts';

export function concatBytes(chunks: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  let total = 0;
  for (let i = 0; i < chunks.length; i++) total += TypedArrayPrototypeGetLength(chunks[i]!);
  const out = new Uint8ArrayCtor(total);
  let offset = 0;
  for (let i = 0; i < chunks.length; i++) {
    TypedArrayPrototypeSet(out, chunks[i]!, offset);
    offset += TypedArrayPrototypeGetLength(chunks[i]!);
  }
  return out;
}
