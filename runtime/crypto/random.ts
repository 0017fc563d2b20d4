/**
 * Bytes from the host's CSPRNG (bridge op 'randomBytes'), fetched in 4 KiB blocks so most calls cost
 * no bridge crossing. Used by crypto.getRandomValues(), randomUUID() and secret-key generation.
 */
import { hostRandomBytes } from '../bridge.ts';
import { TypedArrayPrototypeGetLength, Uint8ArrayCtor } from '../primordials.ts';

const BLOCK_BYTES = 4096;

let block = new Uint8ArrayCtor(0);
let blockLength = 0;
let used = 0;

/** Fill `target` with random bytes. */
export function fillRandom(target: Uint8Array): void {
  // Lengths from the intrinsic getter and no Math.min: a worker may have replaced either.
  const length = TypedArrayPrototypeGetLength(target);
  let offset = 0;
  while (offset < length) {
    if (used === blockLength) {
      block = new Uint8ArrayCtor(hostRandomBytes(BLOCK_BYTES));
      blockLength = TypedArrayPrototypeGetLength(block);
      used = 0;
    }
    const take = length - offset < blockLength - used ? length - offset : blockLength - used;
    for (let i = 0; i < take; i++) target[offset + i] = block[used + i]!;
    // Bytes handed out are never handed out again.
    for (let i = 0; i < take; i++) block[used + i] = 0;
    used += take;
    offset += take;
  }
}
