/**
 * Replaces `tr46` (UTS #46, the IDNA mapping) for whatwg-url at bundle time. The real module carries
 * ~240 KB of Unicode tables that would cost every isolate's start-up; most hosts are plain ASCII, for
 * which UTS #46 processing with the URL Standard's options reduces to ASCII lower-casing. Anything
 * else loads tr46, a runtime chunk, on first use.
 *
 * Why the fast path is exact (https://url.spec.whatwg.org/#concept-domain-to-ascii calls ToASCII
 * with CheckHyphens, UseSTD3ASCIIRules and VerifyDnsLength false, CheckBidi and CheckJoiners true,
 * Transitional_Processing false): every ASCII code point is "valid" or, for A-Z, "mapped" to its lower
 * case; NFC leaves ASCII unchanged; an ASCII-only domain is not a Bidi domain name and holds no
 * joiners; only labels starting with "xn--" need Punycode decoding and validation, so those go to tr46.
 * test/runtime/url.test.ts compares both paths on every ASCII code point.
 */
import { loadChunk } from '../chunks.ts';

interface Tr46 {
  toASCII(domain: string, options: object): string | null;
  toUnicode(domain: string, options: object): { domain: string; error: boolean };
}

function isPlainAscii(domain: string, lower: string): boolean {
  // The original, not the lower case: U+212A KELVIN SIGN lower-cases to an ASCII "k".
  for (let i = 0; i < domain.length; i++) if (domain.charCodeAt(i) > 0x7f) return false;
  const labels = lower.split('.');
  for (let i = 0; i < labels.length; i++) if (labels[i]!.startsWith('xn--')) return false;
  return true;
}

export function toASCII(domain: string, options: object): string | null {
  const lower = domain.toLowerCase();
  if (isPlainAscii(domain, lower)) return lower;
  // The tables are a chunk of their own: the isolate gets their source here, once (runtime-bundle.ts).
  return loadChunk<Tr46>('tr46').toASCII(domain, options);
}

/** UTS #46 ToUnicode with the URL Standard's options (node:url's domainToUnicode); null on an error. */
export function toUnicode(domain: string): string | null {
  const lower = domain.toLowerCase();
  if (isPlainAscii(domain, lower)) return lower;
  const result = loadChunk<Tr46>('tr46').toUnicode(domain, { checkBidi: true, checkJoiners: true });
  return result.error ? null : result.domain;
}
