/**
 * Replaces whatwg-url/lib/encoding.js at bundle time: that file builds a global TextEncoder and
 * TextDecoder when it loads, which would run tenant code if the globals were replaced first.
 */
import { utf8DecodeWithoutBOM, utf8Encode } from '../encoding/utf8.ts';

export { utf8DecodeWithoutBOM, utf8Encode };
