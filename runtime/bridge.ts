/**
 * The one place that holds the host callback. `host` lives in this module's closure only: it is
 * never stored on a global or on an object that tenant code can reach. Every other runtime file
 * talks to the host through the narrow functions below, which pass plain data (strings, numbers,
 * ArrayBuffers, arrays of strings) that isolated-vm copies across.
 */
import type { BridgeBody, HeaderList, HostCall, LogLevel } from './host.d.ts';
import { ArrayPrototypeJoin, StringPrototypeSplit } from './primordials.ts';

let host: HostCall | null = null;

export function connectHost(callback: HostCall): void {
  if (host !== null) throw new TypeError('The runtime is already booted.');
  if (typeof callback !== 'function') throw new TypeError('boot() expects the host callback.');
  host = callback;
}

function connected(): HostCall {
  if (host === null) throw new TypeError('The runtime is not booted.');
  return host;
}

/** The whole response; `done` true when the invocation is also over (one crossing instead of two). */
/** With `done`, false: start no more of this batch (runtime/batch.ts). */
export function hostRespond(id: number, status: number, headers: HeaderList, body: BridgeBody, done: boolean, statusText: string): boolean {
  return connected()('respond', id, status, ArrayPrototypeJoin(headers, '\n'), body, done, statusText) !== false;
}

/** Status and headers now; the body follows with hostChunk() calls and hostEndBody(). */
export function hostRespondStream(id: number, status: number, headers: HeaderList, statusText: string): void {
  connected()('respondStream', id, status, ArrayPrototypeJoin(headers, '\n'), statusText);
}

/** A 101 with a WebSocket: the host completes the handshake; frames follow with hostWsSend / hostWsClose. */
export function hostRespondWebSocket(id: number, headers: HeaderList): void {
  connected()('respondWebSocket', id, ArrayPrototypeJoin(headers, '\n'));
}

/** A D1 call of binding `binding` (workers/d1.ts): '' once under way (the answer comes with dispatch('d1Result')), else why it is refused. */
export function hostD1(callId: number, binding: string, requestJson: string): string {
  return connected()('d1', callId, binding, requestJson);
}

/** One KV operation of binding `binding` (workers/kv.ts): [error, json, bytes]. */
export function hostKv(op: string, binding: string, key: string, value: ArrayBuffer | null, optionsJson: string): [string, string, ArrayBuffer | null] {
  return connected()('kv', op, binding, key, value, optionsJson);
}

export function hostWsSend(id: number, data: string | ArrayBuffer): void {
  connected()('wsSend', id, data);
}

export function hostWsClose(id: number, code: number, reason: string): void {
  connected()('wsClose', id, code, reason);
}

/** A HeaderLines string from the host (host.d.ts) as a list. */
export function headerListFromLines(lines: string): HeaderList {
  return lines === '' ? [] : StringPrototypeSplit(lines, '\n');
}

/** One chunk of a streamed response body; false asks the runtime to wait for dispatch('pull'). */
export function hostChunk(id: number, chunk: ArrayBuffer): boolean {
  return connected()('chunk', id, chunk) === true;
}

export function hostEndBody(id: number): void {
  connected()('endBody', id);
}

/** Ask for the next chunk of a streamed request body (answered by dispatch('bodyChunk' | 'bodyError')). */
export function hostPullBody(id: number): void {
  connected()('pullBody', id);
}

/** One chunk of outbound fetch `fetchId`'s streamed request body; false asks the runtime to wait for dispatch('fetchPull'). */
export function hostFetchUpload(fetchId: number, chunk: ArrayBuffer): boolean {
  return connected()('fetchUpload', fetchId, chunk) === true;
}

/** The streamed request body of fetch `fetchId` ended: cleanly (`error` ''), or with the worker's stream erroring. */
export function hostFetchUploadEnd(fetchId: number, error: string): void {
  connected()('fetchUploadEnd', fetchId, error);
}

/** The worker's signal aborted fetch `fetchId`: the host stops it (no answer comes, or its body errors). */
export function hostFetchAbort(fetchId: number): void {
  connected()('fetchAbort', fetchId);
}

/** Ask for the next chunk of outbound fetch `fetchId`'s response body (answered by dispatch('fetchChunk' | 'fetchBodyError')). */
export function hostPullFetchBody(fetchId: number): void {
  connected()('pullFetchBody', fetchId);
}

export function hostError(id: number, message: string, stack: string): void {
  connected()('error', id, message, stack);
}

/** Ask the host to run runtime chunk `name` here: its exports come back through dispatch('chunk') (runtime/chunks.ts). */
export function hostRuntimeChunk(name: string): void {
  connected()('runtimeChunk', name);
}

/** False: start no more of this batch (runtime/batch.ts). */
export function hostDone(id: number): boolean {
  return connected()('done', id) !== false;
}

export function hostSetTimer(timerId: number, delayMs: number): void {
  connected()('setTimer', timerId, delayMs);
}

export function hostClearTimer(timerId: number): void {
  connected()('clearTimer', timerId);
}

export function hostFetch(fetchId: number, method: string, url: string, headers: HeaderList, body: BridgeBody | 'stream', redirect: 'follow' | 'manual' | 'error', service: string): void {
  connected()('fetch', fetchId, method, url, headers, body, redirect, service);
}

/** The digest, or null for data over the host's limit (MAX_DIGEST_BYTES). */
export function hostDigest(algorithm: string, data: ArrayBuffer): ArrayBuffer | null {
  return connected()('digest', algorithm, data);
}

export function hostDecodeUtf8(data: ArrayBuffer, fatal: boolean): string | null {
  return connected()('decodeUtf8', data, fatal);
}

export function hostEncodingName(label: string): string | null {
  return connected()('encodingName', label);
}

export function hostDecodeText(encoding: string, data: ArrayBuffer, fatal: boolean, piece: 0 | 1 | 2 | 3): string | null {
  return connected()('decodeText', encoding, data, fatal, piece);
}

export function hostSubtle(call: string, buffers: ArrayBuffer[]): [string, string, ArrayBuffer[]] {
  return connected()('subtle', call, buffers);
}

export function hostRandomBytes(length: number): ArrayBuffer {
  return connected()('randomBytes', length);
}

/** Logging before boot (never expected) is dropped rather than thrown into tenant code. */
export function hostLog(level: LogLevel, message: string): void {
  if (host !== null) host('log', level, message);
}

/** Cache API storage on the host: store a whole response under `url` in cache `cache` (false: not stored). */
export function hostCachePut(cache: string, url: string, status: number, headers: HeaderList, body: ArrayBuffer): boolean {
  return connected()('cache', 'put', cache, url, status, ArrayPrototypeJoin(headers, '\n'), body) === true;
}

/** The stored response under `url`, as [status, headers, body], or null. */
export function hostCacheMatch(cache: string, url: string): [number, HeaderList, ArrayBuffer] | null {
  const found = connected()('cache', 'match', cache, url);
  return found === null ? null : [found[0], headerListFromLines(found[1]), found[2]];
}

export function hostCacheDelete(cache: string, url: string): boolean {
  return connected()('cache', 'delete', cache, url) === true;
}

/** A new incremental hash on the host for crypto.DigestStream (null: unknown algorithm or too many open). */
export function hostDigestStreamCreate(algorithm: string): number | null {
  return connected()('digestStream', 'create', algorithm);
}

export function hostDigestStreamUpdate(id: number, chunk: ArrayBuffer): boolean {
  return connected()('digestStream', 'update', id, chunk);
}

export function hostDigestStreamFinish(id: number): ArrayBuffer | null {
  return connected()('digestStream', 'finish', id);
}

export function hostDigestStreamDrop(id: number): void {
  connected()('digestStream', 'drop', id);
}
