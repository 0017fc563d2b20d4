/**
 * Request (https://fetch.spec.whatwg.org/#request-class). Workers have no document, so there is no
 * base URL: relative URLs are a TypeError. Browser-only members (mode, credentials, cache, referrer,
 * window) are not modelled. `signal` follows init's signal (or input's, for a Request input); the
 * signal of an incoming request is made on first access and aborts when the host cancels the
 * invocation (the client went away, a limit ended it).
 */
import type { HeaderList } from '../host.d.ts';
import { ObjectFreeze, RegExpPrototypeExec } from '../primordials.ts';
import { nameClass } from '../global/define.ts';
import { registerInspector } from '../global/inspect.ts';
import { parseURL, serializeURL } from '../url/url.ts';
import {
  type BodyState,
  type BridgeBodyOrStream,
  bodyFrom,
  bodyFromHost,
  streamedBodyFromHost,
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
  hasBody,
  isBodyUsed,
  isUnusable,
  takeForBridge,
  takeOverBody,
} from './body.ts';
import type { ReadableStream } from '../streams/web-streams.ts';
import type { Blob } from './blob.ts';
import type { FormData } from './form-data.ts';
import { Headers, appendHeader, cloneHeaders, createHeaders, fillHeaders, getHeader, headerListOf } from './headers.ts';
import { toRequestMethod } from './method.ts';
import { type AbortSignal, createAbortSignal, dependentSignal, isAbortSignal, signalAbort } from '../events/abort.ts';

type RequestRedirect = 'follow' | 'error' | 'manual';

interface RequestInit {
  method?: unknown;
  headers?: unknown;
  body?: unknown;
  redirect?: unknown;
  integrity?: unknown;
  keepalive?: unknown;
  signal?: unknown;
  duplex?: unknown;
  cf?: unknown;
}

interface RequestState {
  method: string;
  /** The serialized URL (fragment included, as Request.url shows it). */
  url: string;
  headers: Headers;
  body: BodyState;
  redirect: RequestRedirect;
  integrity: string;
  keepalive: boolean;
  /** Made on first access when null (most requests never look at it). */
  signal: AbortSignal | null;
  /**
   * Workers' `request.cf`: what the platform knows of the client. A self-hosted server knows its
   * address only (`clientIp`, as local workerd gives); code reading `request.cf.country` gets
   * undefined instead of a TypeError. Kept from the input Request or `init.cf`, as on Workers. Null:
   * an incoming request's, made on first read (most handlers never look).
   */
  cf: object | null | undefined;
}

/** `state.cf`, an incoming request's made now from the address the host put in its headers. */
function cfOf(state: RequestState): object | undefined {
  if (state.cf === null) state.cf = { clientIp: getHeader(headerListOf(state.headers), 'cf-connecting-ip') ?? undefined };
  return state.cf;
}

/** Passed to the constructor by this runtime only, to build a Request from a ready state. */
const INTERNAL = ObjectFreeze({});

let stateOf: (request: Request) => RequestState;
let isRequest: (value: unknown) => value is Request;

export class Request {
  #state: RequestState;

  // https://fetch.spec.whatwg.org/#dom-request
  constructor(input: unknown, init: unknown = undefined) {
    if (input === INTERNAL) {
      this.#state = init as RequestState;
      return;
    }
    if (arguments.length === 0) {
      throw new TypeError("Failed to construct 'Request': 1 argument required, but only 0 present.");
    }
    if (init !== undefined && init !== null && typeof init !== 'object' && typeof init !== 'function') {
      throw new TypeError("Failed to construct 'Request': The provided value is not of type 'RequestInit'.");
    }
    const options = (init ?? {}) as RequestInit;
    let state: RequestState;
    let inputState: RequestState | null = null;
    if (isRequest(input)) {
      // 6. input is a Request: start from a copy of its request.
      inputState = stateOf(input);
      state = { ...inputState, body: emptyBody(), cf: cfOf(inputState) };
    } else {
      // 5. Parse input with no base URL; failure, or credentials in it, is a TypeError.
      const href = `${input as string}`;
      const parsed = parseURL(href);
      if (parsed === null) throw new TypeError(`Failed to construct 'Request': Invalid URL: ${href}`);
      if (parsed.username !== '' || parsed.password !== '') {
        throw new TypeError(`Failed to construct 'Request': Request cannot be constructed from a URL that includes credentials: ${href}`);
      }
      state = {
        method: 'GET',
        url: serializeURL(parsed),
        headers: createHeaders([], 'none'),
        body: emptyBody(),
        redirect: 'follow',
        integrity: '',
        keepalive: false,
        signal: null,
        cf: undefined,
      };
    }
    if (typeof options.cf === 'object' && options.cf !== null) state.cf = options.cf;
    // 25. Method: a token, not forbidden, normalised.
    if (options.method !== undefined) state.method = toRequestMethod(options.method);
    if (options.redirect !== undefined) {
      const redirect = `${options.redirect as string}`;
      if (redirect !== 'follow' && redirect !== 'error' && redirect !== 'manual') {
        throw new TypeError(`Failed to construct 'Request': '${redirect}' is not a valid value for 'redirect'.`);
      }
      state.redirect = redirect;
    }
    if (options.integrity !== undefined) state.integrity = `${options.integrity as string}`;
    if (options.keepalive !== undefined) state.keepalive = !!options.keepalive;
    // 29-30. Signal: init's if given (null means none), else input's; this request's signal follows it.
    let signal = inputState !== null ? inputState.signal : null;
    if (options.signal !== undefined) {
      if (options.signal !== null && !isAbortSignal(options.signal)) {
        throw new TypeError("Failed to construct 'Request': member signal is not of type AbortSignal.");
      }
      signal = options.signal;
    }
    state.signal = signal === null ? null : dependentSignal([signal]);
    // 32-33. Headers: init's if given, else a copy of input's.
    const headers = createHeaders([], 'none');
    fillHeaders(headers, options.headers !== undefined ? options.headers : inputState?.headers);
    state.headers = headers;
    // 40-41. No body for GET and HEAD.
    const inputBody = inputState !== null ? inputState.body : null;
    const hasInitBody = options.body !== undefined && options.body !== null;
    if ((hasInitBody || (inputBody !== null && hasBody(inputBody))) && (state.method === 'GET' || state.method === 'HEAD')) {
      throw new TypeError("Failed to construct 'Request': Request with GET/HEAD method cannot have body.");
    }
    // 43. Extract init's body; its type becomes the Content-Type unless one is set.
    if (hasInitBody) {
      const extracted = extractBody(options.body);
      // 45. A stream body asks for duplex "half" (the only value); as in Cloudflare Workers, leaving it out is accepted.
      if (extracted.stream !== null && options.duplex !== undefined && `${options.duplex as string}` !== 'half') {
        throw new TypeError(`Failed to construct 'Request': '${options.duplex as string}' is not a valid value for 'duplex'.`);
      }
      state.body = bodyFrom(extracted);
      if (extracted.type !== null && getHeader(headerListOf(headers), 'content-type') === null) {
        appendHeader(headers, 'content-type', extracted.type);
      }
    } else if (inputBody !== null && hasBody(inputBody)) {
      // 42, 47. Take over input's body (a stream through a proxy); input is disturbed by it.
      if (isUnusable(inputBody)) {
        throw new TypeError("Failed to construct 'Request': Cannot construct a Request with a Request object that has already been used.");
      }
      state.body = takeOverBody(inputBody);
    }
    this.#state = state;
  }

  get method(): string {
    return this.#state.method;
  }

  get url(): string {
    return this.#state.url;
  }

  get headers(): Headers {
    return this.#state.headers;
  }

  get cf(): object | undefined {
    return cfOf(this.#state);
  }

  get redirect(): RequestRedirect {
    return this.#state.redirect;
  }

  get integrity(): string {
    return this.#state.integrity;
  }

  get keepalive(): boolean {
    return this.#state.keepalive;
  }

  get signal(): AbortSignal {
    return (this.#state.signal ??= createAbortSignal());
  }

  // https://fetch.spec.whatwg.org/#dom-body-body: made on first access (body.ts).
  get body(): ReadableStream<unknown> | null {
    return bodyStream(this.#state.body);
  }

  get bodyUsed(): boolean {
    return isBodyUsed(this.#state.body);
  }

  // https://fetch.spec.whatwg.org/#dom-request-clone
  clone(): Request {
    const state = this.#state;
    if (isUnusable(state.body)) throw new TypeError("Failed to execute 'clone' on 'Request': Request body is already used");
    return new Request(INTERNAL, {
      ...state,
      headers: cloneHeaders(state.headers),
      body: cloneBodyState(state.body),
      // https://fetch.spec.whatwg.org/#dom-request-clone step 4: the clone's signal follows this one's.
      signal: state.signal === null ? null : dependentSignal([state.signal]),
    });
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
    stateOf = (request) => request.#state;
    isRequest = (value): value is Request => typeof value === 'object' && value !== null && #state in value;
  }
}
nameClass(Request, 'Request');

/**
 * The Request a worker receives. The host sends a parsed, serialized URL and lower-case header names,
 * so nothing is parsed or validated again; headers are immutable, as in a FetchEvent.
 */
export function createIncomingRequest(method: string, url: string, headers: HeaderList, body: ArrayBuffer | string | null | 'stream', id: number): Request {
  return new Request(INTERNAL, {
    method,
    url,
    headers: createHeaders(headers, 'immutable'),
    body: body === 'stream' ? streamedBodyFromHost(id, declaredLength(headers)) : bodyFromHost(body),
    // As workerd: a worker that passes its request on with fetch() hands a redirect back to its client.
    redirect: 'manual',
    integrity: '',
    keepalive: false,
    signal: null,
    cf: null,
  } satisfies RequestState);
}

/**
 * The body of a Request fetch() sends: whole when it is held content, else the stream to send chunk by
 * chunk. Marks it used; throws a TypeError when it was already read.
 */
export function requestBodyForBridge(request: Request): BridgeBodyOrStream {
  const state = stateOf(request);
  if (isUnusable(state.body)) throw new TypeError("Failed to execute 'fetch': the request body was already read.");
  return takeForBridge(state.body);
}

/** The host cancelled the invocation of incoming `request`: abort its signal, if anyone asked for it. */
export function abortIncomingRequest(request: Request, reason: unknown): void {
  const signal = stateOf(request).signal;
  if (signal !== null) signalAbort(signal, reason);
}

registerInspector(Request.prototype, (request: Request) => {
  const state = stateOf(request);
  return { method: state.method, url: state.url, headers: state.headers, redirect: state.redirect, bodyUsed: isBodyUsed(state.body) };
});

const BYTE_COUNT = /^\d{1,15}$/;

/** The Content-Length the client declared (the data plane has checked the body against it), or undefined. */
function declaredLength(headers: HeaderList): number | undefined {
  const value = getHeader(headers, 'content-length');
  // The intrinsic exec: a worker that replaced RegExp.prototype's methods does not reach this.
  return value !== null && RegExpPrototypeExec(BYTE_COUNT, value) !== null ? +value : undefined;
}
