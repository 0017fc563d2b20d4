/** Reads a request body whole, up to a byte limit; for bodies small enough that streaming them is not worth it. */
import type { IncomingMessage } from 'node:http';
import { concatToArrayBuffer } from '../bytes.ts';
import { IsolaneError } from '../errors.ts';

export function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return (length !== undefined && length !== '0') || req.headers['transfer-encoding'] !== undefined;
}

/** The declared Content-Length, or null for a chunked body (Node has checked the header's syntax). */
export function declaredLength(req: IncomingMessage): number | null {
  const length = req.headers['content-length'];
  return length === undefined || req.headers['transfer-encoding'] !== undefined ? null : Number(length);
}

/**
 * The body whole, or a rejection: past `maxBytes`, or not all there by `deadline` (epoch ms: the
 * worker's wall-time limit counts from arrival, so a client sending a byte at a time cannot hold the
 * connection for Node's 5-minute request timeout).
 */
export function readBody(req: IncomingMessage, maxBytes: number, deadline: number): Promise<ArrayBuffer | null> {
  if (!hasBody(req)) return Promise.resolve(null);
  const declared = declaredLength(req);
  if (declared !== null && declared > maxBytes) return Promise.reject(bodyTooLarge(maxBytes));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const late = setTimeout(() => {
      req.removeAllListeners('data');
      reject(new IsolaneError('ISO_ERR_HTTP_BODY_TIMEOUT'));
    }, Math.max(0, deadline - Date.now()));
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        clearTimeout(late);
        req.removeAllListeners('data');
        req.resume();
        reject(bodyTooLarge(maxBytes));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      clearTimeout(late);
      resolve(concatToArrayBuffer(chunks, size));
    });
    req.on('error', (error) => {
      clearTimeout(late);
      reject(error);
    });
  });
}

export function bodyTooLarge(maxBytes: number): IsolaneError {
  return new IsolaneError('ISO_ERR_HTTP_BODY_TOO_LARGE', `the request body is larger than ${maxBytes} bytes`);
}
