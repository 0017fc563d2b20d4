/**
 * Requests Node's HTTP parser refuses before they reach the data plane (malformed, headers too large,
 * too slow to send their headers) still get a JSON answer naming the problem, as every other error
 * does, instead of Node's bare status line.
 */
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { ERROR_CODES, type ErrorCode } from '../errors.ts';

function codeFor(err: NodeJS.ErrnoException): ErrorCode {
  if (err.code === 'HPE_HEADER_OVERFLOW') return 'ISO_ERR_HTTP_HEADERS_TOO_LARGE';
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') return 'ISO_ERR_HTTP_TIMEOUT';
  return 'ISO_ERR_HTTP_BAD_REQUEST';
}

/** CONNECT asks for a tunnel, which no worker serves. */
export function refuseConnect(socket: Socket): void {
  socket.on('error', () => {});
  const code: ErrorCode = 'ISO_ERR_HTTP_TARGET_INVALID';
  const { status } = ERROR_CODES[code];
  const body = JSON.stringify({ error: { code, message: 'CONNECT is not served: workers answer requests, not tunnels' } });
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
}

export function answerClientError(err: NodeJS.ErrnoException, socket: Socket): void {
  // A reset or a connection already answered: nothing to say, only to close.
  if (err.code === 'ECONNRESET' || !socket.writable || (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent) {
    socket.destroy();
    return;
  }
  const code = codeFor(err);
  const { status, message } = ERROR_CODES[code];
  const body = JSON.stringify({ error: { code, message } });
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
}
