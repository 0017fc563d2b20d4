/**
 * WebSockets as a Workers server has them (https://developers.cloudflare.com/workers/runtime-apis/websockets/):
 * `new WebSocketPair()` gives two ends; the worker accept()s the server end and answers the upgrade with
 * the client end, `new Response(null, { status: 101, webSocket: client })`. The host then completes the
 * handshake on the connection and carries frames both ways: dispatch('wsMessage' | 'wsClosed') in,
 * host('wsSend' | 'wsClose') out. The invocation stays open while the socket is (invocation.ts), so its
 * waitUntil() work, its CPU and its record cover the connection's life.
 *
 * Defined on first use (global/lazy-globals.ts). Outbound sockets (`new WebSocket(url)`, fetch with an
 * Upgrade header) are not supported: the constructor says so.
 */
import { hostWsClose, hostWsSend } from '../bridge.ts';
import { bufferSourceBytes, copyBytes } from '../encoding/buffer-source.ts';
import { utf8Encode } from '../encoding/utf8.ts';
import { fireEvent, loadEvents } from '../events/event.ts';
import { nameClass } from '../global/define.ts';
import { DOMException } from '../global/dom-exception.ts';
import { ArrayIsArray, MathTrunc, ObjectCreate, ObjectFreeze, TypedArrayPrototypeGetByteLength, TypedArrayPrototypeGetBuffer } from '../primordials.ts';

const INTERNAL = ObjectFreeze({});
const CONNECTING = 0;
const OPEN = 1;
const CLOSING = 2;
const CLOSED = 3;

/** What the host knows of a server end once its 101 went out: the invocation it belongs to. */
interface Link {
  invocationId: number;
  /** The socket closed (both ways, or the host gave up): the invocation may end. */
  onClosed: () => void;
}

interface Internals {
  /** The other end of the pair. */
  peer: WebSocket | null;
  readyState: number;
  accepted: boolean;
  /** The client end went out in a Response (it can do so once). */
  used: boolean;
  link: Link | null;
  /** Sent before the 101 went out, in order: a string or bytes to send, or a close [code, reason]. */
  outbox: (string | ArrayBuffer | [number, string])[];
  /** Received before accept(). */
  inbox: (string | ArrayBuffer)[];
}

type WebSocket = InstanceType<ReturnType<typeof defineWebSockets>['WebSocket']>;

let internalsOf: (socket: WebSocket) => Internals;
let isWebSocket: (value: unknown) => value is WebSocket;

/** Bound server ends, by invocation id. */
const bound: Record<number, WebSocket> = ObjectCreate(null);

function defineWebSockets() {
  const { EventTarget, MessageEvent, CloseEvent } = loadEvents();

  class WebSocket extends EventTarget {
    static readonly CONNECTING = CONNECTING;
    static readonly OPEN = OPEN;
    static readonly CLOSING = CLOSING;
    static readonly CLOSED = CLOSED;
    readonly CONNECTING = CONNECTING;
    readonly OPEN = OPEN;
    readonly CLOSING = CLOSING;
    readonly CLOSED = CLOSED;
    #internals: Internals;

    constructor(token: unknown = undefined) {
      if (token !== INTERNAL) {
        throw new TypeError('Outbound WebSocket connections are not supported here: a worker accepts WebSockets with new WebSocketPair().');
      }
      super();
      this.#internals = { peer: null, readyState: CONNECTING, accepted: false, used: false, link: null, outbox: [], inbox: [] };
    }

    get readyState(): number {
      return this.#internals.readyState;
    }

    get url(): null {
      this.#internals;
      return null;
    }

    get protocol(): string {
      this.#internals;
      return '';
    }

    get extensions(): string {
      this.#internals;
      return '';
    }

    /** The server end starts receiving (messages that came before are delivered now). */
    accept(): void {
      const internals = this.#internals;
      if (internals.accepted) throw new TypeError('accept() was already called on this WebSocket.');
      if (internals.used) throw new TypeError('This WebSocket went out in a Response: accept() its peer, the server end.');
      internals.accepted = true;
      internals.readyState = OPEN;
      const waiting = internals.inbox;
      internals.inbox = [];
      for (let i = 0; i < waiting.length; i++) deliverMessage(this, waiting[i]!);
    }

    send(message: unknown): void {
      const internals = this.#internals;
      if (!internals.accepted) throw new TypeError('You must call accept() on this WebSocket before sending messages.');
      if (internals.readyState !== OPEN) throw new TypeError("Can't call WebSocket send() after close().");
      let data: string | ArrayBuffer;
      if (typeof message === 'string') data = message;
      else {
        const bytes = bufferSourceBytes(message, false);
        if (bytes === null) throw new TypeError('WebSocket send() takes a string, an ArrayBuffer or an ArrayBuffer view.');
        data = TypedArrayPrototypeGetBuffer(copyBytes(bytes)) as ArrayBuffer;
      }
      if (internals.link !== null) hostWsSend(internals.link.invocationId, data);
      else internals.outbox[internals.outbox.length] = data;
    }

    close(code: unknown = undefined, reason: unknown = undefined): void {
      const internals = this.#internals;
      if (!internals.accepted) throw new TypeError('You must call accept() on this WebSocket before closing it.');
      let closeCode = 1000;
      if (code !== undefined) {
        closeCode = MathTrunc(+(code as number));
        if (!(closeCode === 1000 || (closeCode >= 3000 && closeCode <= 4999))) {
          throw new DOMException(`The close code must be 1000 or between 3000 and 4999, not ${String(code)}.`, 'InvalidAccessError');
        }
      }
      const text = reason === undefined ? '' : `${reason as string}`;
      if (TypedArrayPrototypeGetByteLength(utf8Encode(text)) > 123) throw new DOMException('The close reason is longer than 123 bytes.', 'SyntaxError');
      if (internals.readyState === CLOSING || internals.readyState === CLOSED) return;
      internals.readyState = CLOSING;
      if (internals.link !== null) hostWsClose(internals.link.invocationId, closeCode, text);
      else internals.outbox[internals.outbox.length] = [closeCode, text];
    }

    static {
      internalsOf = (socket) => socket.#internals;
      isWebSocket = (value): value is WebSocket => typeof value === 'object' && value !== null && #internals in value;
    }
  }
  nameClass(WebSocket, 'WebSocket');

  class WebSocketPair {
    0: WebSocket;
    1: WebSocket;

    constructor() {
      const client = new WebSocket(INTERNAL);
      const server = new WebSocket(INTERNAL);
      internalsOf(client).peer = server;
      internalsOf(server).peer = client;
      this[0] = client;
      this[1] = server;
    }
  }
  nameClass(WebSocketPair, 'WebSocketPair');

  function deliverMessage(socket: WebSocket, data: string | ArrayBuffer): void {
    fireEvent(socket, new MessageEvent('message', { data }));
  }
  deliver = deliverMessage;
  closeEvent = (code, reason, wasClean) => new CloseEvent('close', { code, reason, wasClean });

  return { WebSocket, WebSocketPair };
}

let deliver: (socket: WebSocket, data: string | ArrayBuffer) => void;
let closeEvent: (code: number, reason: string, wasClean: boolean) => object;
let api: ReturnType<typeof defineWebSockets> | null = null;

export function loadWebSockets(): ReturnType<typeof defineWebSockets> {
  return (api ??= defineWebSockets());
}

/**
 * The server end whose client end is `value`, for a Response's `webSocket` init; a TypeError message when
 * `value` is not the unused client end of a pair.
 */
export function takeClientEnd(value: unknown): WebSocket | string {
  if (api === null || !isWebSocket(value)) return 'webSocket must be the client end of a WebSocketPair';
  const internals = internalsOf(value);
  if (internals.accepted) return 'webSocket is the accepted (server) end: return its peer, the client end';
  if (internals.used) return 'this WebSocket already went out in a Response';
  internals.used = true;
  return internals.peer!;
}

/** The 101 went out for invocation `invocationId`: what the worker sent so far goes, and frames flow. */
export function linkServerEnd(server: WebSocket, invocationId: number, onClosed: () => void): void {
  const internals = internalsOf(server);
  internals.link = { invocationId, onClosed };
  bound[invocationId] = server;
  const outbox = internals.outbox;
  internals.outbox = [];
  for (let i = 0; i < outbox.length; i++) {
    const item = outbox[i]!;
    if (!ArrayIsArray(item)) hostWsSend(invocationId, item);
    else hostWsClose(invocationId, item[0], item[1]);
  }
}

/** dispatch('wsMessage', id, data): a frame from the client. */
export function wsMessage(invocationId: number, data: string | ArrayBuffer): void {
  const server = bound[invocationId];
  if (server === undefined) return;
  const internals = internalsOf(server);
  if (internals.readyState === CLOSED) return;
  if (!internals.accepted) internals.inbox[internals.inbox.length] = data;
  else deliver(server, data);
}

/** dispatch('wsClosed', id, code, reason, wasClean): the connection is closed; the invocation may end. */
export function wsClosed(invocationId: number, code: number, reason: string, wasClean: boolean): void {
  const server = bound[invocationId];
  if (server === undefined) return;
  delete bound[invocationId];
  const internals = internalsOf(server);
  internals.readyState = CLOSED;
  const link = internals.link!;
  try {
    fireEvent(server, closeEvent(code, reason, wasClean));
  } finally {
    link.onClosed();
  }
}

/** The invocation was cancelled: its socket is forgotten, no event fires. */
export function forgetWebSocket(invocationId: number): void {
  const server = bound[invocationId];
  if (server === undefined) return;
  delete bound[invocationId];
  internalsOf(server).readyState = CLOSED;
}
