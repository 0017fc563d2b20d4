/**
 * fetch() of a data: URL, answered in the isolate with no host call: the scheme fetch of the Fetch
 * Standard (https://fetch.spec.whatwg.org/#scheme-fetch, "data"), which does not look at the method.
 */
import { StringPrototypeIndexOf, StringPrototypeSlice } from '../primordials.ts';
import { processDataURL } from '../mime/data-url.ts';
import { bodyFrom } from './body.ts';
import { type Response, createFetchedResponse } from './response.ts';

/** The Response for data: URL `url` (a Request's url, serialized); a TypeError when it is not a valid one. */
export function fetchDataURL(url: string): Response {
  const data = processDataURL(url);
  // A failure is a network error, which fetch() rejects with a TypeError.
  if (data === null) throw new TypeError(`Failed to fetch: invalid data: URL`);
  // Status 200, status message "OK", one header: Content-Type, the serialized MIME type. The response's
  // URL is the request's, serialized without its fragment (https://fetch.spec.whatwg.org/#dom-response-url).
  const hash = StringPrototypeIndexOf(url, '#');
  return createFetchedResponse(
    200,
    'OK',
    ['content-type', data.mimeType],
    bodyFrom({ source: data.body, stream: null, type: null }),
    hash === -1 ? url : StringPrototypeSlice(url, 0, hash),
    false,
  );
}
