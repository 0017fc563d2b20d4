/**
 * The bridge: the only surface between the host (src/isolates) and the runtime bundled into every isolate.
 *
 * Direction host → isolate: the bundle defines `globalThis.__isolaneBoot(host)` once; the host calls it,
 * the runtime deletes the global, keeps `host` in a closure and returns `dispatch`. From then on every
 * entry into tenant code is one synchronous, timed host call to `dispatch(op, ...)`, so CPU limits cover
 * code after `await`, timer callbacks and promise jobs (they run in the microtask drain of that call).
 *
 * Direction isolate → host: `host(op, ...)`, a synchronous callback. Arguments are copied (strings,
 * numbers, ArrayBuffers, arrays of strings); nothing returned or passed is a host object.
 */

/** Flat header list: [name0, value0, name1, value1, ...]; names lower-case. */
export type HeaderList = string[];

/**
 * The same list as one string, names and values joined by '\n' ('' for none): the form of the two
 * crossings every request makes ('request' in, 'respond' out). A string is passed as a primitive, an
 * array has to be copied (~3 µs per crossing measured); no header name or value can hold a newline.
 */
export type HeaderLines = string;

/** A body crossing the bridge: bytes, a string (sent as UTF-8), or none. */
export type BridgeBody = ArrayBuffer | string | null;

export type LogLevel = 'debug' | 'log' | 'info' | 'warn' | 'error';

export interface HostCall {
  /** The handler's Response for invocation `id` is ready. */
  /** `done` true: the invocation is over too, as if host('done', id) followed (the common case, one crossing). */
  /** `statusText` is the Response's own ('' for the standard reason phrase). */
  (op: 'respond', id: number, status: number, headers: HeaderLines, body: BridgeBody, done: boolean, statusText: string): boolean | void;
  /**
   * The handler's Response for invocation `id` has a stream body: status and headers now, then each chunk
   * as the worker produces it with 'chunk', then 'endBody'. A stream that errors is reported with 'error'.
   */
  (op: 'respondStream', id: number, status: number, headers: HeaderLines, statusText: string): void;
  /**
   * The handler answered a WebSocket upgrade with a 101 and the client end of a WebSocketPair: the host
   * completes the handshake (with `headers`) and from then carries frames: 'wsSend' and 'wsClose' out,
   * dispatch('wsMessage' | 'wsClosed') in. The invocation is over ('done') once the socket is closed.
   */
  (op: 'respondWebSocket', id: number, headers: HeaderLines): void;
  /**
   * One operation on the KV namespace bound as `binding` ('get', 'put', 'delete', 'list'), done at once
   * (src/kv/kv-calls.ts). Answers [error, json, bytes]: `error` '' on success; 'get' gives the metadata's JSON
   * ('null' for none) and the value's bytes (null: no such key); 'list' gives the page as JSON.
   * Refused (throws) from top-level code: only while handling a request, as on Workers.
   */
  (op: 'kv', kvOp: string, binding: string, key: string, value: ArrayBuffer | null, optionsJson: string): [string, string, ArrayBuffer | null];
  /**
   * Statements for the D1 database bound as `binding` (src/d1/d1-calls.ts): `requestJson` is
   * `{ statements: [{ sql, params }] }` (one statement, or a batch run as one transaction) or
   * `{ exec: sql }`. Answers '' once it is under way (the answer comes later, dispatch('d1Result')) or
   * why it is refused. Refused (throws) from top-level code, as on Workers.
   */
  (op: 'd1', callId: number, binding: string, requestJson: string): string;
  /** A message to the client of invocation `id`'s WebSocket: text, or bytes for a binary frame. */
  (op: 'wsSend', id: number, data: string | ArrayBuffer): void;
  /** Close invocation `id`'s WebSocket with `code` and `reason` (the client's close frame follows as 'wsClosed'). */
  (op: 'wsClose', id: number, code: number, reason: string): void;
  /**
   * One chunk of a streamed response body. Answers false when the client has not taken enough of what was
   * sent: the runtime then reads no more of the stream until dispatch('pull', id).
   */
  (op: 'chunk', id: number, chunk: ArrayBuffer): boolean;
  (op: 'endBody', id: number): void;
  /** The worker wants the next chunk of invocation `id`'s streamed request body: see dispatch('bodyChunk'). */
  (op: 'pullBody', id: number): void;
  /**
   * The handler threw or its promise rejected, or a streamed response body failed after 'respondStream'
   * (the host then ends the response abruptly); otherwise the host answers 500. `stack` goes to the worker's log only.
   */
  (op: 'error', id: number, message: string, stack: string): void;
  /** Response sent and every `waitUntil` promise settled: the invocation is over. In a batch, false: start no more of it. */
  (op: 'done', id: number): boolean | void;
  /** Arm one-shot host timer `timerId` for `delayMs`; attributed to the invocation currently running. */
  (op: 'setTimer', timerId: number, delayMs: number): void;
  (op: 'clearTimer', timerId: number): void;
  /** One console line, already formatted. */
  (op: 'log', level: LogLevel, message: string): void;
  /**
   * Outbound fetch `fetchId` for the invocation currently running: the host makes the request (egress
   * policy, per-invocation limits) and answers later with dispatch('fetchResult' | 'fetchError').
   * `service`: '' for the global fetch(), else the name of the service binding whose fetch() it is:
   * the request goes to the bound worker (src/outbound/service-call.ts).
   */
  (op: 'fetch', fetchId: number, method: string, url: string, headers: HeaderList, body: BridgeBody | 'stream', redirect: 'follow' | 'manual' | 'error', service: string): void;
  /**
   * One chunk of fetch `fetchId`'s request body, when `body` was 'stream'. Answers false when the upstream has
   * not taken enough of what was sent: the runtime then waits for dispatch('fetchPull', fetchId).
   */
  (op: 'fetchUpload', fetchId: number, chunk: ArrayBuffer): boolean;
  /** The request's signal aborted fetch `fetchId`: stop it, whether it waits, runs or its body is being read. */
  (op: 'fetchAbort', fetchId: number): void;
  /** Fetch `fetchId`'s streamed request body ended; `error` is '' or why the worker's stream failed. */
  (op: 'fetchUploadEnd', fetchId: number, error: string): void;
  /** The worker wants the next chunk of fetch `fetchId`'s streamed response body: see dispatch('fetchChunk'). */
  (op: 'pullFetchBody', fetchId: number): void;
  /**
   * Run runtime chunk `name` in this context: before it returns, the host calls dispatch('chunk', name, exports)
   * (runtime/chunks.ts, src/isolates/runtime-chunks.ts).
   */
  (op: 'runtimeChunk', name: string): void;
  /**
   * The Cache API (runtime/workers/cache.ts, src/isolates/worker-caches.ts), answered at once, for the
   * worker of the invocation running. 'put' answers whether the host stored the response (its headers
   * decide, as on Cloudflare); 'match' answers [status, headers, body] or null; 'delete' whether there was one.
   */
  (op: 'cache', action: 'put', cache: string, url: string, status: number, headers: HeaderLines, body: ArrayBuffer): boolean;
  (op: 'cache', action: 'match', cache: string, url: string): [number, HeaderLines, ArrayBuffer] | null;
  (op: 'cache', action: 'delete', cache: string, url: string): boolean;
  /**
   * crypto.DigestStream's incremental hash (runtime/workers/digest-stream.ts, src/isolates/digest-streams.ts),
   * answered at once: 'create' an id (null for an unknown algorithm or too many open), 'update' with a
   * chunk, 'finish' the digest (null for an unknown id), 'drop' to forget one.
   */
  (op: 'digestStream', action: 'create', algorithm: string): number | null;
  (op: 'digestStream', action: 'update', id: number, chunk: ArrayBuffer): boolean;
  (op: 'digestStream', action: 'finish', id: number): ArrayBuffer | null;
  (op: 'digestStream', action: 'drop', id: number): void;
  /** `length` (at most 65536) bytes from the host's CSPRNG, returned at once. */
  (op: 'randomBytes', length: number): ArrayBuffer;
  /** The digest of `data` with `algorithm` (SHA-1, SHA-256, SHA-384, SHA-512), returned at once; null past 64 MiB. */
  (op: 'digest', algorithm: string, data: ArrayBuffer): ArrayBuffer | null;
  /**
   * `data` (at most 1 MiB, cut at a code point boundary) decoded as UTF-8 by the host, returned at once:
   * malformed sequences become U+FFFD, or the answer is null when `fatal`. A byte order mark is kept.
   */
  (op: 'decodeUtf8', data: ArrayBuffer, fatal: boolean): string | null;
  /** The encoding a TextDecoder label names (the Encoding Standard's name), or null: unknown, or "replacement". */
  (op: 'encodingName', label: string): string | null;
  /**
   * `data` decoded from a legacy encoding encodingName gave (Shift_JIS, GBK, ...); null when `fatal` and
   * malformed. `piece`: 0 all of a decode()'s bytes; 1, 2, 3 its first, a middle and its last piece,
   * which share one decoder on the host (src/isolates/host-text.ts).
   */
  (op: 'decodeText', encoding: string, data: ArrayBuffer, fatal: boolean, piece: 0 | 1 | 2 | 3): string | null;
  /**
   * One crypto.subtle operation, done by the host at once (see src/isolates/host-crypto.ts for `call`'s
   * shape). Answers `[error, json, buffers]`: `error` is '' on success, else "Name: message" (a WebCrypto
   * DOMException name). The host keeps no state per key: each call carries the key's material.
   */
  (op: 'subtle', call: string, buffers: ArrayBuffer[]): [string, string, ArrayBuffer[]];
}

export interface Dispatch {
  /**
   * The version's bindings, before its code runs: they fill the `env` object the handlers get (and
   * cloudflare:workers exports), and with `asGlobals` (service-worker syntax) become globals too.
   * `envJson` is the JSON of the plain bindings; `made` those the runtime makes objects for, each
   * `kind:name` (kinds `kv`, `d1` and `service`), joined by ','.
   */
  (op: 'bindings', envJson: string, made: string, asGlobals: boolean): void;
  /**
   * Install the tenant's code. `namespace` is the main module's namespace object (module syntax) or
   * undefined (service-worker syntax: the script already ran and registered listeners).
   * Returns the worker's syntax; throws TypeError if there is neither a fetch nor a scheduled handler.
   */
  (op: 'install', namespace: object | undefined): 'module' | 'service-worker';
  /**
   * The version has the nodejs_compat flag: define Node's globals it brings (`Buffer` and `process`,
   * made on first read), before the worker's code runs. `processEnvJson`: what process.env starts with.
   */
  (op: 'nodeGlobals', processEnvJson: string): void;
  /**
   * The built-in modules the host linked for the worker's imports (the JSON of their names), before its
   * code runs: the only ones its links may take from `__isolaneBuiltinModule` (cloudflare:workers always).
   */
  (op: 'builtinLinks', namesJson: string): void;
  /** The host ran runtime chunk `name` in this context (asked with host('runtimeChunk')): keep its exports. */
  (op: 'chunk', name: string, exports: unknown): void;
  /**
   * A new request: the runtime builds a Request and calls the handler; it answers via host('respond' | 'respondStream' | 'error'),
   * then host('done'). `body` is the whole body (its text when it is UTF-8: the same bytes once encoded), null, or
   * 'stream': its chunks come with 'bodyChunk' as the worker reads.
   * Tenant errors never throw out of dispatch, with one exception the runtime cannot prevent: isolated-vm rethrows a promise
   * rejection left unhandled during the call (e.g. a worker's stray `Promise.reject()`), after the runtime's own host calls
   * of that call were made. Treat such a throw as a log line, not as the invocation's failure. The same holds for 'timer'.
   */
  (op: 'request', id: number, method: string, url: string, headers: HeaderLines, body: ArrayBuffer | string | null | 'stream'): void;
  /**
   * Several requests (id, method, url, headers, body for each, flat: strings, numbers and null cross with
   * no copy; a body is its text or null) in one entry. They run one after another: the next starts once the one before is over (its
   * host('done'), or host('respond') with `done`), unless that call answered false (the host will run the
   * rest in another isolate). One not over by the end of the entry stops the batch:
   * the host dispatches those not started as single 'request's (runtime/batch.ts).
   */
  (op: 'requests', ...idMethodUrlHeadersBody: (number | string | null)[]): void;
  /**
   * A cron trigger fired: run the scheduled handler with the time it was due (ms since the epoch) and the cron
   * expression. Nothing is answered unless it fails (host('error')); then host('done') once its waitUntil()
   * promises settle.
   */
  (op: 'scheduled', id: number, scheduledTime: number, cron: string): void;
  /** A message from the client of invocation `id`'s WebSocket: text, or bytes for a binary frame. */
  (op: 'wsMessage', id: number, data: string | ArrayBuffer): void;
  /** Invocation `id`'s WebSocket is closed (`wasClean` false when the connection just ended, code 1006). */
  (op: 'wsClosed', id: number, code: number, reason: string, wasClean: boolean): void;
  /** A chunk of invocation `id`'s request body (`body` was 'stream'), after host('pullBody'); null: the body ended. */
  (op: 'bodyChunk', id: number, chunk: ArrayBuffer | null): void;
  /** The request body cannot be read to its end (`message` says why, e.g. over the worker's size limit). */
  (op: 'bodyError', id: number, message: string): void;
  /** The host has room for more of invocation `id`'s streamed response body (after 'chunk' answered false). */
  (op: 'pull', id: number): void;
  /** Host timer `timerId` fired: run its callback (re-arming intervals with setTimer). */
  (op: 'timer', timerId: number): void;
  /** The host gave up on invocation `id` (a limit, the process draining): drop its state, ignore its late answers. */
  (op: 'cancel', id: number): void;
  /**
   * Invocation `id`'s client went away before the response was complete: cancel the response, keep its
   * waitUntil() work, host('done') once that has settled.
   */
  (op: 'clientGone', id: number): void;
  /**
   * Outbound fetch `fetchId` answered: `meta` is [statusText, final url, '1' if redirected else '']. `body` is
   * the whole body (its text when it is UTF-8, as for 'request'), none, or 'stream': its chunks come with
   * 'fetchChunk' as the worker reads (host 'pullFetchBody').
   */
  (op: 'fetchResult', fetchId: number, status: number, headers: HeaderList, body: ArrayBuffer | string | null | 'stream', meta: string[]): void;
  /** The upstream has room for more of fetch `fetchId`'s streamed request body (after 'fetchUpload' answered false). */
  (op: 'fetchPull', fetchId: number): void;
  /** A chunk of fetch `fetchId`'s streamed response body; null: it ended. */
  (op: 'fetchChunk', fetchId: number, chunk: ArrayBuffer | null): void;
  /** The upstream failed while fetch `fetchId`'s body was read: the worker's read rejects with a TypeError. */
  (op: 'fetchBodyError', fetchId: number, message: string): void;
  /** Outbound fetch `fetchId` failed: reject with a `name` error (TypeError) carrying `message`. */
  (op: 'fetchError', fetchId: number, name: string, message: string): void;
  /** D1 call `callId` answered: the JSON of `{ ok: true, results }` (or `count`, `duration` for exec) or `{ ok: false, kind, message }`. */
  (op: 'd1Result', callId: number, answerJson: string): void;
}

/** What the host's watchdog addon puts in the isolate for the runtime (src/limits/watchdog.ts). */
export interface Natives {
  /** An object's own enumerable string keys, without its integer indices (absent when not built for this V8). */
  namedKeys?: (object: object) => string[];
  /** A string's UTF-8 bytes, lone surrogates as U+FFFD (absent when not built for this V8). */
  utf8Encode?: (input: string) => Uint8Array<ArrayBuffer>;
  /** Bytes read as UTF-8, each malformed sequence one U+FFFD, no BOM handling (absent when not built for this V8). */
  utf8Decode?: (bytes: Uint8Array) => string;
  /** btoa's base64 of a string of code units below 256; null when one is not. */
  base64Encode?: (input: string) => string | null;
  /** atob's forgiving-base64 decode, as a string of code units below 256; null on failure. */
  base64Decode?: (input: string) => string | null;
  /** V8's continuation-preserved embedder data, read and set (runtime/async-context.ts). */
  getContinuationData?: () => unknown;
  setContinuationData?: (frame: unknown) => void;
}

export type Boot = (host: HostCall, natives?: Natives) => Dispatch;
