/**
 * The host side of the runtime's crypto: random bytes, digests and crypto.subtle operations, answered
 * synchronously inside the tenant's slice, so their CPU is charged to the invocation that asked.
 */
import { createHash, randomBytes } from 'node:crypto';

/** WebCrypto digest names → node:crypto's; the runtime only sends these. */
const DIGESTS: Record<string, string> = { 'SHA-1': 'sha1', 'SHA-256': 'sha256', 'SHA-384': 'sha384', 'SHA-512': 'sha512' };

export function hostCrypto(op: 'digest' | 'randomBytes' | 'subtle', args: unknown[]): unknown {
  switch (op) {
    case 'digest': {
      const [algorithm, data] = args as [string, ArrayBuffer];
      const digest = createHash(DIGESTS[algorithm] ?? 'sha256').update(new Uint8Array(data)).digest();
      return digest.buffer.slice(digest.byteOffset, digest.byteOffset + digest.byteLength);
    }
    case 'randomBytes': {
      const length = Math.min(65536, Math.max(0, Math.trunc(Number(args[0]) || 0)));
      const bytes = randomBytes(length);
      return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + length);
    }
    case 'subtle':
      return ['NotSupportedError: crypto.subtle operations other than digest are not implemented yet', '', []];
  }
}
