/**
 * Response (https://fetch.spec.whatwg.org/#response-class). Responses made by a worker have type
 * "default" and an empty url; the host reads status, header list and body through
 * responseForHost(), never through the (replaceable) getters.
 */
import type { BridgeBody, HeaderList } from '../host.d.ts';
import { JSONStringify, MathTrunc, NumberIsFinite, ObjectFreeze, StringPrototypeCharCodeAt, StringPrototypeIndexOf, StringPrototypeSlice, WeakMapCtor, WeakMapPrototypeGet, WeakMapPrototypeSet } from '../primordials.ts';
import { nameClass } from '../global/define.ts';
import { registerInspector } from '../global/inspect.ts';
import { parseURL, serializeURL } from '../url/url.ts';
import {
  type BodyState,
  type ExtractedBody,
  bodyFrom,
  bodyStream,
  cloneBodyState,
  consumeArrayBuffer,
  consumeBlob,
  consumeBytes,
  consumeFormData,
  consumeJSON,
  consumeText,
  emptyBody,
  extractBody,
  isBodyUsed,
  isUnusable,
  takeForBridge,
} from './body.ts';
import type { ReadableStream } from '../streams/web-streams.ts';
import type { Blob } from './blob.ts';
import type { FormData } from './form-data.ts';
import { Headers, appendHeader, cloneHeaders, createHeaders, fillHeaders, getHeader, headerListOf } from './headers.ts';
import { toByteString } from './header-values.ts';
import { encodeForClient, markEncodeBodyManual } from './content-encoding.ts';
import { takeClientEnd } from '../workers/websocket.ts';

type ResponseType = 'default' | 'error' | 'basic';

interface ResponseInit {
  status?: unknown;
  statusText?: unknown;
  headers?: unknown;
  /** Workers' extension: the client end of a WebSocketPair, with status 101. */
  webSocket?: unknown;
}

/** A 101 Response's WebSocket ends: the client end it was given, and its peer the host links up (made on first use). */
let webSockets: WeakMap<Response, { client: object; server: object }> | null = null;

interface ResponseState {
  type: ResponseType;
  status: number;
  statusText: string;
  headers: Headers;
  body: BodyState;
  url: string;
  redirected: boolean;
}

// https://fetch.spec.whatwg.org/#redirect-status
function isRedirectStatus(status: number): boolean {
  return status === 301 || status === 302 || status === 303 || status === 307 || status === 308;
}

// https://fetch.spec.whatwg.org/#null-body-status
function isNullBodyStatus(status: number): boolean {
  return status === 101 || status === 103 || status === 204 || status === 205 || status === 304;
}

/** Web IDL `unsigned short` without [EnforceRange]: modulo 2^16. */
function toUnsignedShort(value: unknown): number {
  const n = +(value as number);
  if (!NumberIsFinite(n)) return 0;
  const m = MathTrunc(n) % 65536;
  return m < 0 ? m + 65536 : m;
}

// https://httpwg.org/specs/rfc9112.html#status.line: reason-phrase = *( HTAB / SP / VCHAR / obs-text )
function isReasonPhrase(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = StringPrototypeCharCodeAt(text, i);
    if (!(c === 0x09 || (c >= 0x20 && c <= 0x7e) || (c >= 0x80 && c <= 0xff))) return false;
  }
  return true;
}

const INTERNAL = ObjectFreeze({});

let stateOf: (response: Response) => ResponseState;
let isResponse: (value: unknown) => value is Response;

export class Response {
  #state: ResponseState;

  // https://fetch.spec.whatwg.org/#dom-response
  constructor(body: unknown = null, init: unknown = undefined) {
    if (body === INTERNAL) {
      this.#state = init as ResponseState;
      return;
    }
    // 1-3. A new response whose headers have the "response" guard (not filtered here, see headers.ts).
    this.#state = {
      type: 'default',
      status: 200,
      statusText: '',
      headers: createHeaders([], 'none'),
      body: emptyBody(),
      url: '',
      redirected: false,
    };
    // 4. If body is non-null, extract it.
    const extracted = body === null || body === undefined ? null : extractBody(body);
    const client = typeof init === 'object' && init !== null ? (init as ResponseInit).webSocket : undefined;
    // 5. Initialize the response.
    initializeResponse(this.#state, init, extracted, client !== undefined && client !== null);
    if (client !== undefined && client !== null) {
      const server = takeClientEnd(client);
      if (typeof server === 'string') throw new TypeError(`Failed to construct 'Response': ${server}.`);
      WeakMapPrototypeSet((webSockets ??= new WeakMapCtor()), this, { client, server });
    }
    markEncodeBodyManual(this, init);
  }

  /** Workers' extension: the client end of the WebSocketPair this 101 answers with, or null. */
  get webSocket(): object | null {
    this.#state;
    return webSockets === null ? null : (WeakMapPrototypeGet(webSockets, this)?.client ?? null);
  }

  // https://fetch.spec.whatwg.org/#dom-response-error
  static error(): Response {
    return new Response(INTERNAL, {
      type: 'error',
      status: 0,
      statusText: '',
      headers: createHeaders([], 'immutable'),
      body: emptyBody(),
      url: '',
      redirected: false,
    } satisfies ResponseState);
  }

  // https://fetch.spec.whatwg.org/#dom-response-redirect
  static redirect(url: unknown, status: unknown = 302): Response {
    // 1. Parse url (a worker has no API base URL: it must be absolute). 2. Failure is a TypeError.
    const href = `${url as string}`;
    const parsed = parseURL(href);
    if (parsed === null) throw new TypeError(`Failed to execute 'redirect' on 'Response': Invalid URL: ${href}`);
    // 3. If status is not a redirect status, throw a RangeError.
    const code = toUnsignedShort(status);
    if (!isRedirectStatus(code)) {
      throw new RangeError(`Failed to execute 'redirect' on 'Response': Invalid status code ${code}`);
    }
    // 4-7. A response with that status, an immutable Location header and no body.
    return new Response(INTERNAL, {
      type: 'default',
      status: code,
      statusText: '',
      headers: createHeaders(['location', serializeURL(parsed)], 'immutable'),
      body: emptyBody(),
      url: '',
      redirected: false,
    } satisfies ResponseState);
  }

  // https://fetch.spec.whatwg.org/#dom-response-json
  static json(data: unknown, init: unknown = undefined): Response {
    // 1. Let bytes be the result of running serialize a JavaScript value to JSON bytes on data.
    const text = JSONStringify(data) as string | undefined;
    if (text === undefined) throw new TypeError("Failed to execute 'json' on 'Response': Value is not JSON serializable");
    // 2. Let body be the result of extracting bytes (kept as the JSON text: it is well-formed).
    const body: ExtractedBody = { source: text, stream: null, type: 'application/json' };
    // 3-4. A new response, initialized with init and (body, "application/json").
    const response = new Response(INTERNAL, {
      type: 'default',
      status: 200,
      statusText: '',
      headers: createHeaders([], 'none'),
      body: emptyBody(),
      url: '',
      redirected: false,
    } satisfies ResponseState);
    initializeResponse(stateOf(response), init, body);
    markEncodeBodyManual(response, init);
    return response;
  }

  get type(): ResponseType {
    return this.#state.type;
  }

  get url(): string {
    return this.#state.url;
  }

  get redirected(): boolean {
    return this.#state.redirected;
  }

  get status(): number {
    return this.#state.status;
  }

  get ok(): boolean {
    const status = this.#state.status;
    return status >= 200 && status <= 299;
  }

  get statusText(): string {
    return this.#state.statusText;
  }

  get headers(): Headers {
    return this.#state.headers;
  }

  // https://fetch.spec.whatwg.org/#dom-body-body: made on first access (body.ts).
  get body(): ReadableStream<unknown> | null {
    return bodyStream(this.#state.body);
  }

  get bodyUsed(): boolean {
    return isBodyUsed(this.#state.body);
  }

  // https://fetch.spec.whatwg.org/#dom-response-clone
  clone(): Response {
    const state = this.#state;
    if (isUnusable(state.body)) throw new TypeError("Failed to execute 'clone' on 'Response': Response body is already used");
    return new Response(INTERNAL, { ...state, headers: cloneHeaders(state.headers), body: cloneBodyState(state.body) });
  }

  async text(): Promise<string> {
    return await consumeText(this.#state.body);
  }

  async json(): Promise<unknown> {
    return await consumeJSON(this.#state.body);
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    return await consumeArrayBuffer(this.#state.body);
  }

  async bytes(): Promise<Uint8Array<ArrayBuffer>> {
    return await consumeBytes(this.#state.body);
  }

  async blob(): Promise<Blob> {
    const state = this.#state;
    return await consumeBlob(state.body, getHeader(headerListOf(state.headers), 'content-type'));
  }

  async formData(): Promise<FormData> {
    const state = this.#state;
    return await consumeFormData(state.body, getHeader(headerListOf(state.headers), 'content-type'));
  }

  static {
    stateOf = (response) => response.#state;
    isResponse = (value): value is Response => typeof value === 'object' && value !== null && #state in value;
  }
}
nameClass(Response, 'Response');

// https://fetch.spec.whatwg.org/#initialize-a-response
function initializeResponse(state: ResponseState, init: unknown, body: ExtractedBody | null, webSocket = false): void {
  if (init !== undefined && init !== null && typeof init !== 'object' && typeof init !== 'function') {
    throw new TypeError("Failed to construct 'Response': The provided value is not of type 'ResponseInit'.");
  }
  const options = (init ?? {}) as ResponseInit;
  // 1. If init["status"] is not in the range 200 to 599, inclusive, then throw a RangeError.
  const status = options.status === undefined ? 200 : toUnsignedShort(options.status);
  // Workers: a response with a WebSocket is a 101, and only such a response is.
  if (webSocket && status !== 101) throw new RangeError(`Failed to construct 'Response': a Response with a webSocket must have status 101, not ${status}.`);
  if ((status < 200 || status > 599) && !webSocket) {
    throw new RangeError(`Failed to construct 'Response': The status provided (${status}) is outside the range [200, 599].`);
  }
  // 2. If init["statusText"] is not a reason-phrase, then throw a TypeError.
  const statusText = options.statusText === undefined ? '' : toByteString(options.statusText, 'statusText');
  if (!isReasonPhrase(statusText)) throw new TypeError(`Failed to construct 'Response': Invalid statusText: ${statusText}`);
  // 3-4. Set status and status message.
  state.status = status;
  state.statusText = statusText;
  // 5. If init["headers"] exists, fill this's headers with it.
  if (options.headers !== undefined) fillHeaders(state.headers, options.headers);
  // 6. If body was given:
  if (body !== null) {
    // 1. If status is a null body status, throw a TypeError.
    if (isNullBodyStatus(status)) {
      throw new TypeError(`Failed to construct 'Response': Response with null body status (${status}) cannot have body`);
    }
    // 2. Set this's response's body to body's body.
    state.body = bodyFrom(body);
    // 3. If body's type is non-null and the header list lacks Content-Type, append it.
    if (body.type !== null && getHeader(headerListOf(state.headers), 'content-type') === null) {
      appendHeader(state.headers, 'content-type', body.type);
    }
  }
}

/** The Response of an outbound fetch, from the host's answer: headers immutable, as fetch() gives them. */
export function createFetchedResponse(status: number, statusText: string, headers: HeaderList, body: BodyState, url: string, redirected: boolean): Response {
  return new Response(INTERNAL, {
    type: 'basic',
    status,
    statusText,
    headers: createHeaders(headers, 'immutable'),
    body: isNullBodyStatus(status) ? emptyBody() : body,
    // A response's URL has no fragment (the Fetch standard serializes it with "exclude fragment").
    url: withoutFragment(url),
    redirected,
  } satisfies ResponseState);
}

function withoutFragment(url: string): string {
  const hash = StringPrototypeIndexOf(url, '#');
  return hash === -1 ? url : StringPrototypeSlice(url, 0, hash);
}

export interface HostResponse {
  status: number;
  /** '' unless the Response was given one: the host sends the standard reason phrase then. */
  statusText: string;
  headers: HeaderList;
  /** The body to send whole, when it is held content (or null). */
  body: BridgeBody;
  /** A stream body, sent chunk by chunk as it is read (see streams/send-body.ts). */
  stream: ReadableStream<unknown> | null;
  /** A 101's server end of its WebSocketPair (workers/websocket.ts), or null. */
  webSocket: object | null;
}

/**
 * What the host needs to answer with `value`, or a TypeError message when it cannot: `value` is not a
 * Response, is a network error (Response.error()), or its body was already read (or is locked).
 */
export function responseForHost(value: unknown): HostResponse | string {
  if (!isResponse(value)) return 'the handler did not return (or resolve to) a Response';
  const state = stateOf(value);
  if (state.type === 'error') return 'the handler returned a network error (Response.error())';
  if (isUnusable(state.body)) return "the Response's body was already read";
  const body = takeForBridge(state.body);
  const out = encodeForClient(value, { headers: headerListOf(state.headers), body: body.body, stream: body.stream });
  return { status: state.status, statusText: state.statusText, headers: out.headers, body: out.body, stream: out.stream, webSocket: webSockets === null ? null : (WeakMapPrototypeGet(webSockets, value)?.server ?? null) };
}

/**
 * What Cache.put stores of `value` (runtime/workers/cache.ts), or a TypeError message: its status, a copy
 * of its headers, and its body, read here whole (put consumes the response, as in browsers).
 */
export function responseForCache(value: unknown): { status: number; headers: HeaderList; body: ArrayBuffer | Promise<ArrayBuffer> } | string {
  if (!isResponse(value)) return 'the second argument is not a Response';
  const state = stateOf(value);
  if (state.type === 'error') return 'a network error (Response.error()) cannot be cached';
  if (isUnusable(state.body)) return "the Response's body was already read";
  const list = headerListOf(state.headers);
  const headers: HeaderList = [];
  for (let i = 0; i < list.length; i++) headers[i] = list[i]!;
  return { status: state.status, headers, body: consumeArrayBuffer(state.body) };
}

registerInspector(Response.prototype, (response: Response) => {
  const state = stateOf(response);
  return {
    status: state.status,
    statusText: state.statusText,
    headers: state.headers,
    ok: state.status >= 200 && state.status <= 299,
    redirected: state.redirected,
    type: state.type,
    url: state.url,
    bodyUsed: isBodyUsed(state.body),
  };
});
