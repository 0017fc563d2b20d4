/**
 * The runtime functions whatwg-url's replaced modules call, filled in by url.ts. This module imports
 * nothing: whatwg-url `require`s the replacement modules, and esbuild would otherwise wrap every
 * runtime module they import in a lazily compiled initialiser (slower to start, see runtime-bundle.ts).
 */
export const hooks: {
  utf8Encode: (input: string) => Uint8Array;
  utf8DecodeWithoutBOM: (bytes: Uint8Array) => string;
} = {
  utf8Encode: () => {
    throw new Error('whatwg-url hooks are not connected');
  },
  utf8DecodeWithoutBOM: () => {
    throw new Error('whatwg-url hooks are not connected');
  },
};
