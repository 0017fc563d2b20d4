/** CRC-32 (gzip, RFC 1952) and Adler-32 (zlib, RFC 1950), updated a chunk at a time. */
import { TypedArrayPrototypeGetLength } from '../primordials.ts';

let table: Int32Array | null = null;

/** The CRC-32 table for the reflected polynomial 0xEDB88320, made on first use. */
function crcTable(): Int32Array {
  if (table !== null) return table;
  table = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c;
  }
  return table;
}

/** The CRC-32 of what `crc` covered followed by `bytes` (start with 0). */
export function crc32(crc: number, bytes: Uint8Array): number {
  const t = crcTable();
  let c = ~crc;
  const length = TypedArrayPrototypeGetLength(bytes);
  for (let i = 0; i < length; i++) c = t[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

/** The Adler-32 of what `adler` covered followed by `bytes` (start with 1). */
export function adler32(adler: number, bytes: Uint8Array): number {
  let a = adler & 0xffff;
  let b = adler >>> 16;
  const length = TypedArrayPrototypeGetLength(bytes);
  let i = 0;
  while (i < length) {
    // 5552 bytes at most between reductions: the sums stay below 2^32.
    const end = i + 5552 < length ? i + 5552 : length;
    for (; i < end; i++) {
      a += bytes[i]!;
      b += a;
    }
    a %= 65521;
    b %= 65521;
  }
  return ((b << 16) | a) >>> 0;
}
