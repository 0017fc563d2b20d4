/**
 * SubtleCrypto and the algorithm normalization it shares with DigestStream, from the `web-crypto` chunk
 * (src/isolates/runtime-bundle.ts, MODULE_CHUNKS): built apart, and made in an isolate the first time
 * one of them is used. The chunk gets the runtime's own modules (primordials, CryptoKey, the bridge's
 * calls) from `given()`; it copies none of them.
 */
import { given } from 'isolane:given/web-crypto';
import { makeChunk } from '../chunks.ts';
import type { normalizeAlgorithm } from './algorithms.ts';
import type { SubtleCrypto } from './subtle.ts';

export interface WebCrypto {
  SubtleCrypto: typeof SubtleCrypto;
  normalizeAlgorithm: typeof normalizeAlgorithm;
}

export function loadWebCrypto(): WebCrypto {
  return makeChunk<WebCrypto>('web-crypto', given);
}
