/**
 * WebSocket upgrades on the data plane. Node hands a request with `Upgrade: websocket` to the server's
 * 'upgrade' event with the bare socket; here it gets a ServerResponse on that socket and goes through the
 * data plane like any request, so routing, admission, limits and metering are the same. If the worker
 * answers with a 101 and a WebSocket, `completeWebSocket` finishes the handshake with `ws` (it checks the
 * key and version and writes Sec-WebSocket-Accept) and hands back the socket; any other answer is written
 * as an ordinary response, and the connection closes after it.
 */
import type { IncomingMessage, ServerResponse as ServerResponseType } from 'node:http';
import { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';

/**
 * Largest message a client may send (Workers' limit is 1 MiB): a bigger one closes the socket with 1009.
 * Each message crosses into the isolate as one copy.
 */
export const MAX_MESSAGE_BYTES = 1024 * 1024;

interface Pending {
  socket: Duplex;
  head: Buffer;
}

const pending = new WeakMap<IncomingMessage, Pending>();
/** Open sockets, for a draining process to close. */
const open = new Set<WebSocket>();
/** Headers the worker put on its 101, added to the handshake ws writes. */
const extraHeaders = new WeakMap<IncomingMessage, string[]>();

const server = new WebSocketServer({
  noServer: true,
  maxPayload: MAX_MESSAGE_BYTES,
  // The worker picks the subprotocol: the one its 101 names, if the client offered it.
  handleProtocols: (offered, req) => {
    const chosen = headerValue(extraHeaders.get(req) ?? [], 'sec-websocket-protocol');
    return chosen !== null && offered.has(chosen) ? chosen : false;
  },
});
server.on('headers', (headers, req) => {
  const extra = extraHeaders.get(req) ?? [];
  for (let i = 0; i < extra.length; i += 2) {
    const name = extra[i]!;
    if (name === 'sec-websocket-protocol' || name === 'sec-websocket-accept' || name === 'upgrade' || name === 'connection' || name === 'sec-websocket-extensions') continue;
    headers.push(`${name}: ${extra[i + 1]}`);
  }
});

/** A GET asking to become a WebSocket: Node gives it to 'upgrade' (the server's shouldUpgradeCallback). */
export function isWebSocketUpgrade(req: IncomingMessage): boolean {
  return req.method === 'GET' && /(^|,)\s*websocket\s*(,|$)/i.test(req.headers.upgrade ?? '');
}

/** Runs `handle` for an upgrade request as for any other, with a response object on its socket. */
export function acceptUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, handle: (req: IncomingMessage, res: ServerResponseType) => void): void {
  const res = new ServerResponse(req);
  res.assignSocket(socket as Socket);
  // Whatever the answer, unless it becomes a WebSocket, the connection ends after it.
  res.shouldKeepAlive = false;
  res.once('finish', () => socket.end());
  socket.on('error', () => socket.destroy());
  pending.set(req, { socket, head });
  handle(req, res);
}

/** The request came through acceptUpgrade and has not been completed yet. */
export function isPendingUpgrade(req: IncomingMessage): boolean {
  return pending.has(req);
}

/**
 * Completes the handshake of `req` with the worker's 101 `headers`: `onOpen` gets the socket, or `failed`
 * runs when the client's handshake is not valid (ws answers it with a 400) or the client left. False,
 * and nothing done, when `req` is not a pending upgrade (a plain request).
 */
export function completeWebSocket(req: IncomingMessage, res: ServerResponseType, headers: string[], onOpen: (ws: WebSocket) => void, failed: () => void): boolean {
  const upgrade = pending.get(req);
  if (!upgrade) return false;
  pending.delete(req);
  const { socket, head } = upgrade;
  res.detachSocket(socket as Socket);
  extraHeaders.set(req, headers);
  let opened = false;
  const onClose = () => {
    if (!opened) failed();
  };
  socket.once('close', onClose);
  server.handleUpgrade(req, socket, head, (ws) => {
    opened = true;
    socket.off('close', onClose);
    open.add(ws);
    ws.once('close', () => open.delete(ws));
    onOpen(ws);
  });
  return true;
}

/** A draining process's last word to its WebSocket clients: 1001, going away (they reconnect elsewhere). */
export function closeAllWebSockets(): void {
  for (const ws of open) {
    ws.close(1001, 'the server is shutting down');
    // A client that does not answer the close is not waited for (ws would wait 30 s).
    setTimeout(() => ws.terminate(), 1000).unref();
  }
}

function headerValue(list: string[], name: string): string | null {
  for (let i = 0; i < list.length; i += 2) if (list[i] === name) return list[i + 1]!;
  return null;
}
