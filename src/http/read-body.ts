/** Reads a request body up to a byte limit; resolves null when there is none, rejects past the limit. */
import type { IncomingMessage } from 'node:http';
import { concatToArrayBuffer } from '../bytes.ts';
import { IsolaneError } from '../errors.ts';

export function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return (length !== undefined && length !== '0') || req.headers['transfer-encoding'] !== undefined;
}

export function readBody(req: IncomingMessage, maxBytes: number): Promise<ArrayBuffer | null> {
  if (!hasBody(req)) return Promise.resolve(null);
  const declared = Number(req.headers['content-length']);
  if (declared > maxBytes) return Promise.reject(tooLarge(maxBytes));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        req.removeAllListeners('data');
        req.resume();
        reject(tooLarge(maxBytes));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(concatToArrayBuffer(chunks, size)));
    req.on('error', reject);
  });
}

function tooLarge(maxBytes: number): IsolaneError {
  return new IsolaneError('ISO_ERR_HTTP_BODY_TOO_LARGE', `the request body is larger than ${maxBytes} bytes`);
}
