/**
 * feross's `buffer` (the node:buffer chunk) predates Node's `base64url` encoding, which JWT and WebAuthn
 * code uses through Buffer. This teaches its Buffer that encoding in the calls that take one by name:
 * `Buffer.from`, `toString`, `byteLength`, `isEncoding`. Part of the chunk (src/isolates/runtime-bundle.ts).
 */

type Encoding = string | undefined;

interface BufferLib {
  Buffer: {
    from(value: unknown, encodingOrOffset?: unknown, length?: unknown): unknown;
    byteLength(value: unknown, encoding?: Encoding): number;
    isEncoding(encoding: unknown): boolean;
    prototype: { toString(encoding?: Encoding, start?: number, end?: number): string };
  };
}

const isBase64url = (encoding: unknown) => typeof encoding === 'string' && encoding.toLowerCase() === 'base64url';
const toBase64 = (text: string) => text.replace(/-/g, '+').replace(/_/g, '/');
const toBase64url = (text: string) => text.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');

export function withBase64url<T extends BufferLib>(lib: T): T {
  const { Buffer } = lib;
  const { from, byteLength, isEncoding } = Buffer;
  const { toString } = Buffer.prototype;
  Buffer.from = function (value, encodingOrOffset, length) {
    if (typeof value === 'string' && isBase64url(encodingOrOffset)) return from.call(this, toBase64(value), 'base64');
    return from.call(this, value, encodingOrOffset, length);
  };
  Buffer.byteLength = function (value, encoding) {
    if (typeof value === 'string' && isBase64url(encoding)) return byteLength.call(this, toBase64(value), 'base64');
    return byteLength.call(this, value, encoding);
  };
  Buffer.isEncoding = function (encoding) {
    return isBase64url(encoding) || isEncoding.call(this, encoding);
  };
  Buffer.prototype.toString = function (this: unknown, ...args: [Encoding?, number?, number?]) {
    if (isBase64url(args[0])) return toBase64url(toString.call(this, 'base64', args[1], args[2]));
    return toString.apply(this, args);
  };
  return lib;
}
