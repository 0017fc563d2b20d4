/**
 * Handed to the whatwg-url chunk as @exodus/bytes/whatwg.js (runtime/url/url.ts). whatwg-url calls it
 * for query strings only, with the document's encoding, which for the URL API (and so in a worker) is
 * always UTF-8.
 * https://url.spec.whatwg.org/#string-percent-encode-after-encoding
 */
import { utf8Encode } from '../encoding/utf8.ts';

const HEX: string[] = [];
for (let byte = 0; byte < 256; byte++) HEX[byte] = `%${byte < 16 ? '0' : ''}${byte.toString(16).toUpperCase()}`;

/**
 * `percentEncodeSet` lists the printable ASCII characters to encode beyond the C0 control set
 * (C0 controls, U+007F and non-ASCII are always encoded); `spaceAsPlus` writes U+0020 as "+".
 */
export function percentEncodeAfterEncoding(encoding: string, input: string, percentEncodeSet: string, spaceAsPlus = false): string {
  if (encoding !== 'utf-8' && encoding !== 'UTF-8') {
    throw new RangeError(`Unsupported encoding ${encoding}: only UTF-8 is available here.`);
  }
  const bytes = utf8Encode(input);
  let out = '';
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i]!;
    if (spaceAsPlus && byte === 0x20) out += '+';
    else if (byte < 0x20 || byte > 0x7e || percentEncodeSet.includes(String.fromCharCode(byte))) out += HEX[byte]!;
    else out += String.fromCharCode(byte);
  }
  return out;
}
