/**
 * fetch(): https://fetch.spec.whatwg.org/#fetch-method. The request is made by the host (undici, through
 * the egress policy and the invocation's subrequest limits); this side builds the Request, hands its
 * parts over the bridge and settles the promise when the host answers with dispatch('fetchResult' |
 * 'fetchError'). Bodies held whole cross whole; stream bodies stream both ways: the request body goes
 * upstream as the worker produces it, the response body comes in as the worker reads it (whole when it
 * is small and of known length).
 */
import { hostFetch, hostFetchAbort, hostFetchUploadEnd } from '../bridge.ts';
import { errorMessage, isError } from '../global/inspect.ts';
import { followSignal } from '../events/abort.ts';
import { fetchBodyStream } from '../streams/host-body.ts';
import { knownLength } from '../streams/known-length.ts';
import { cancelFetchUpload, sendFetchBody } from '../streams/send-body.ts';
import type { HeaderList } from '../host.d.ts';
import { type BridgeBodyOrStream, bodyFromHost, streamedFetchBody } from './body.ts';
import { createFetchedResponse } from './response.ts';
import { getHeader, headerListOf } from './headers.ts';
import { Request, requestBodyForBridge } from './request.ts';
import { MapCtor, MapPrototypeDelete, MapPrototypeGet, MapPrototypeSet, PromiseCtor, StringPrototypeStartsWith } from '../primordials.ts';
import { fetchDataURL } from './fetch-data-url.ts';

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
  /** Once answered with a streamed body: errors it with the signal's reason (host-body.ts). */
  abortBody: ((reason: unknown) => void) | null;
}

const pending = new MapCtor<number, Pending>();
let nextFetchId = 0;

export function fetch(input: unknown, init: unknown = undefined): Promise<unknown> {
  return fetchThrough('', input, init);
}

/** fetch() itself (`service` ''), or a service binding's fetch(): to the worker bound as `service`. */
export function fetchThrough(service: string, input: unknown, init: unknown): Promise<unknown> {
  return new PromiseCtor((resolve, reject) => {
    // 1-2. Let requestObject be the result of new Request(input, init); errors reject the promise.
    let request: Request;
    try {
      request = new Request(input, init);
    } catch (error) {
      reject(error);
      return;
    }
    if (request.signal.aborted) {
      reject(request.signal.reason);
      return;
    }
    // A data: URL is answered here, with no host call, whatever the method (fetch-data-url.ts).
    if (service === '' && StringPrototypeStartsWith(request.url, 'data:')) {
      try {
        resolve(fetchDataURL(request.url));
      } catch (error) {
        reject(error);
      }
      return;
    }
    const list = headerListOf(request.headers);
    const headers: HeaderList = [];
    for (let i = 0; i < list.length; i++) headers[i] = list[i]!;
    let body: BridgeBodyOrStream;
    try {
      body = requestBodyForBridge(request);
    } catch (error) {
      reject(error);
      return;
    }
    const id = ++nextFetchId;
    const entry: Pending = { resolve, reject, abortBody: null };
    MapPrototypeSet(pending, id, entry);
    // The signal aborting rejects at once (before the answer) and stops the host's request; after the
    // answer, its streamed body errors with the signal's reason.
    const signal = request.signal;
    followSignal(signal, () => {
      hostFetchAbort(id);
      cancelFetchUpload(id, signal.reason);
      if (MapPrototypeDelete(pending, id)) reject(signal.reason);
      else entry.abortBody?.(signal.reason);
    });
    const stream = body.stream;
    if (stream === null) {
      hostFetch(id, request.method, request.url, headers, body.body, request.redirect as 'follow' | 'manual' | 'error', service);
      return;
    }
    // A stream body goes upstream as the worker produces it (the host reads it as the upstream takes it),
    // with the length it is known to carry when the worker set none (streams/known-length.ts).
    const length = knownLength(stream);
    if (length !== undefined && getHeader(headers, 'content-length') === null) {
      headers[headers.length] = 'content-length';
      headers[headers.length] = `${length}`;
    }
    hostFetch(id, request.method, request.url, headers, 'stream', request.redirect as 'follow' | 'manual' | 'error', service);
    sendFetchBody(id, stream, (error) => {
      if (error !== null) hostFetchUploadEnd(id, isError(error) ? errorMessage(error) : 'the request body stream failed');
    });
  });
}

/** dispatch('fetchResult'): the host's answer becomes a Response; a 'stream' body is read from the host as the worker reads. */
export function fetchResult(fetchId: number, status: number, headers: HeaderList, body: ArrayBuffer | string | null | 'stream', meta: string[]): void {
  const entry = MapPrototypeGet(pending, fetchId);
  if (!entry) return;
  MapPrototypeDelete(pending, fetchId);
  try {
    let bodyState;
    if (body === 'stream') {
      const streamed = fetchBodyStream(fetchId);
      entry.abortBody = streamed.abort;
      bodyState = streamedFetchBody(streamed.stream);
    } else bodyState = bodyFromHost(body);
    entry.resolve(createFetchedResponse(status, meta[0] ?? '', headers, bodyState, meta[1] ?? '', meta[2] === '1'));
  } catch (error) {
    entry.reject(error);
  }
}

/** dispatch('fetchError'): a network error (or a limit) rejects with a TypeError, as fetch() does. */
export function fetchError(fetchId: number, name: string, message: string): void {
  const entry = MapPrototypeGet(pending, fetchId);
  if (!entry) return;
  MapPrototypeDelete(pending, fetchId);
  const error = new TypeError(message);
  if (name !== 'TypeError') error.name = name;
  cancelFetchUpload(fetchId, error);
  entry.reject(error);
}
