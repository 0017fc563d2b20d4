/**
 * A minimal HTTP/1.1 client for the open-loop load generator: keep-alive connections over `node:net`,
 * one request in flight per connection, requests waiting in a queue when every connection is busy
 * (as undici's Pool does without pipelining). Requests are pre-encoded bytes; responses are parsed only
 * as far as the status code and where the body ends (Content-Length or chunked).
 *
 * Why not undici here: at a few thousand requests a second, undici's per-request work (~70-90 µs of CPU
 * on this machine, against ~35 µs here) and its garbage stalled the generator's event loop for up to
 * ~20 ms, and that showed up as every system's p99 (docs/BENCHMARKS.md, "Warm latency"). Load only goes
 * to loopback.
 */
import net from 'node:net';

/** Status code of a complete response, or the error that ended the exchange. */
export type Outcome = number | Error;

const CRLF = Buffer.from('\r\n');
const HEAD_END = Buffer.from('\r\n\r\n');
const MAX_HEAD_BYTES = 64 * 1024;

/** `GET /path HTTP/1.1` with a Host header and the given headers (and a body with its length). */
export function encodeRequest(request: { method?: string; path?: string; host: string; headers?: Record<string, string>; body?: string }): Buffer {
  const lines = [`${request.method ?? 'GET'} ${request.path ?? '/'} HTTP/1.1`, `host: ${request.host}`];
  for (const [name, value] of Object.entries(request.headers ?? {})) lines.push(`${name}: ${value}`);
  const body = request.body === undefined ? null : Buffer.from(request.body);
  if (body) lines.push(`content-length: ${body.byteLength}`);
  const head = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
  return body ? Buffer.concat([head, body]) : head;
}

/**
 * Incremental parser of a stream of responses. `feed` returns the status codes of the responses it
 * completed; it throws on bytes that are not HTTP/1.1.
 */
export class ResponseParser {
  #pending: Buffer | null = null;
  #state: 'head' | 'length' | 'chunk-size' | 'chunk-data' | 'chunk-end' | 'trailers' = 'head';
  #status = 0;
  #left = 0;
  /** The last response asked to close the connection. */
  closeAfter = false;

  feed(chunk: Buffer): number[] {
    let data = this.#pending ? Buffer.concat([this.#pending, chunk]) : chunk;
    this.#pending = null;
    const done: number[] = [];
    let at = 0;
    for (;;) {
      if (this.#state === 'head') {
        const end = data.indexOf(HEAD_END, at);
        if (end === -1) break;
        this.#readHead(data.toString('latin1', at, end));
        at = end + HEAD_END.length;
        if (this.#state === 'head') done.push(this.#status);
        continue;
      }
      if (this.#state === 'length' || this.#state === 'chunk-data') {
        const take = Math.min(this.#left, data.length - at);
        at += take;
        this.#left -= take;
        if (this.#left > 0) break;
        if (this.#state === 'length') {
          this.#state = 'head';
          done.push(this.#status);
        } else this.#state = 'chunk-end';
        continue;
      }
      // Line-based states: a chunk size, the CRLF after a chunk, trailer lines.
      const eol = data.indexOf(CRLF, at);
      if (eol === -1) break;
      const line = data.toString('latin1', at, eol);
      at = eol + CRLF.length;
      if (this.#state === 'chunk-size') {
        const size = Number.parseInt(line, 16);
        if (!Number.isFinite(size) || size < 0) throw new Error(`bad chunk size ${JSON.stringify(line)}`);
        this.#left = size;
        this.#state = size === 0 ? 'trailers' : 'chunk-data';
      } else if (this.#state === 'chunk-end') {
        if (line !== '') throw new Error('chunk not followed by CRLF');
        this.#state = 'chunk-size';
      } else if (line === '') {
        this.#state = 'head';
        done.push(this.#status);
      }
    }
    if (at < data.length) {
      data = data.subarray(at);
      if (this.#state === 'head' && data.length > MAX_HEAD_BYTES) throw new Error('response head too large');
      this.#pending = Buffer.from(data);
    }
    return done;
  }

  #readHead(head: string): void {
    const lines = head.split('\r\n');
    const status = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0]!);
    if (!status) throw new Error(`not an HTTP/1.1 status line: ${JSON.stringify(lines[0]!.slice(0, 80))}`);
    this.#status = Number(status[1]);
    let length = 0;
    let chunked = false;
    this.closeAfter = false;
    for (let i = 1; i < lines.length; i++) {
      const colon = lines[i]!.indexOf(':');
      const name = lines[i]!.slice(0, colon).trim().toLowerCase();
      const value = lines[i]!.slice(colon + 1).trim().toLowerCase();
      if (name === 'content-length') length = Number(value);
      else if (name === 'transfer-encoding') chunked = value.includes('chunked');
      else if (name === 'connection') this.closeAfter = value.includes('close');
    }
    const bodyless = this.#status === 204 || this.#status === 304 || (this.#status >= 100 && this.#status < 200);
    if (bodyless) return;
    if (chunked) this.#state = 'chunk-size';
    else if (length > 0) {
      this.#state = 'length';
      this.#left = length;
    }
  }
}

interface Waiting {
  bytes: Buffer;
  done: (outcome: Outcome) => void;
}

class Connection {
  readonly socket: net.Socket;
  readonly parser = new ResponseParser();
  current: Waiting | null = null;
  connected = false;
  closed = false;

  constructor(port: number, host: string, onResponse: (conn: Connection, status: number) => void, onClose: (conn: Connection) => void) {
    this.socket = net.connect({ port, host, noDelay: true });
    this.socket.on('data', (chunk: Buffer) => {
      let statuses: number[];
      try {
        statuses = this.parser.feed(chunk);
      } catch (err) {
        this.socket.destroy(err as Error);
        return;
      }
      for (const status of statuses) onResponse(this, status);
    });
    this.socket.once('connect', () => {
      this.connected = true;
    });
    this.socket.on('error', () => {});
    this.socket.on('close', () => {
      this.closed = true;
      onClose(this);
    });
  }
}

export class Http1Pool {
  readonly #port: number;
  readonly #host: string;
  readonly #max: number;
  readonly #all = new Set<Connection>();
  readonly #idle: Connection[] = [];
  readonly #queue: Waiting[] = [];
  #queueHead = 0;

  constructor(origin: string, connections: number) {
    const url = new URL(origin);
    if (!['127.0.0.1', '[::1]', 'localhost'].includes(url.hostname)) throw new Error(`load is only sent to loopback, not ${origin}`);
    this.#port = Number(url.port);
    this.#host = url.hostname.replace(/^\[|\]$/g, '');
    this.#max = connections;
  }

  /** Sends `bytes` (one encoded request) on an idle connection, or when one is free. */
  request(bytes: Buffer, done: (outcome: Outcome) => void): void {
    const waiting = { bytes, done };
    const conn = this.#idle.pop();
    if (conn) this.#send(conn, waiting);
    else {
      this.#queue.push(waiting);
      if (this.#all.size < this.#max) this.#open();
    }
  }

  close(): void {
    for (const conn of this.#all) conn.socket.destroy();
  }

  #open(): void {
    const conn = new Connection(
      this.#port,
      this.#host,
      (c, status) => this.#answered(c, status),
      (c) => this.#lost(c),
    );
    this.#all.add(conn);
    conn.socket.once('connect', () => this.#next(conn));
  }

  #send(conn: Connection, waiting: Waiting): void {
    conn.current = waiting;
    conn.socket.write(waiting.bytes);
  }

  #answered(conn: Connection, status: number): void {
    const waiting = conn.current;
    conn.current = null;
    waiting?.done(status);
    if (conn.parser.closeAfter) conn.socket.destroy();
    else this.#next(conn);
  }

  #next(conn: Connection): void {
    if (conn.closed) return;
    if (this.#queueHead < this.#queue.length) {
      const waiting = this.#queue[this.#queueHead]!;
      this.#queue[this.#queueHead++] = undefined as never;
      if (this.#queueHead > 1024 && this.#queueHead * 2 > this.#queue.length) {
        this.#queue.splice(0, this.#queueHead);
        this.#queueHead = 0;
      }
      this.#send(conn, waiting);
    } else this.#idle.push(conn);
  }

  #lost(conn: Connection): void {
    this.#all.delete(conn);
    const idle = this.#idle.indexOf(conn);
    if (idle !== -1) this.#idle.splice(idle, 1);
    conn.current?.done(new Error('connection closed before the response ended'));
    conn.current = null;
    if (!conn.connected) {
      // Nothing listens: fail what waits rather than reconnect in a loop.
      while (this.#queueHead < this.#queue.length) this.#queue[this.#queueHead++]!.done(new Error(`could not connect to ${this.#host}:${this.#port}`));
      return;
    }
    if (this.#queueHead < this.#queue.length && this.#all.size < this.#max) this.#open();
  }
}
