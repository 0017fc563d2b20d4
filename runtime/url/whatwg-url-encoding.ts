/**
 * Replaces whatwg-url/lib/encoding.js at bundle time: that file builds a global TextEncoder and
 * TextDecoder when it loads, which would run tenant code if the globals were replaced first.
 */
import { hooks } from './whatwg-url-hooks.ts';

export function utf8Encode(input: string): Uint8Array {
  return hooks.utf8Encode(input);
}

export function utf8DecodeWithoutBOM(bytes: Uint8Array): string {
  return hooks.utf8DecodeWithoutBOM(bytes);
}
