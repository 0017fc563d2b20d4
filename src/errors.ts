/**
 * Every host error code. A code is `ISO_ERR_<ROOM>_<WHAT>`, has one HTTP status and a default message,
 * and is documented in docs/errors.md (a test checks). Released codes are never reused or renumbered.
 */
export const ERROR_CODES = {
  ISO_ERR_AUTH_MISSING: { status: 401, message: 'Authorization: Bearer <token> is required' },
  ISO_ERR_AUTH_INVALID: { status: 401, message: 'the admin token is not valid' },
  ISO_ERR_AUTH_RATE_LIMITED: { status: 429, message: 'too many failed attempts from this address' },
  ISO_ERR_NOT_FOUND: { status: 404, message: 'no such endpoint' },
  ISO_ERR_WORKER_NOT_FOUND: { status: 404, message: 'no such worker' },
  ISO_ERR_VERSION_NOT_FOUND: { status: 404, message: 'no such version of this worker' },
  ISO_ERR_ROUTE_NOT_FOUND: { status: 404, message: 'no worker serves this host' },
  ISO_ERR_ROUTE_INVALID: { status: 400, message: 'invalid route pattern' },
  ISO_ERR_HTTP_HOST_MISSING: { status: 400, message: 'the request has no Host header' },
  ISO_ERR_HTTP_HOST_INVALID: { status: 400, message: 'the Host header is not a valid host' },
  ISO_ERR_HTTP_TARGET_INVALID: { status: 400, message: 'the request target is not a path or an absolute http(s) URL' },
  ISO_ERR_HTTP_BODY_TOO_LARGE: { status: 413, message: 'the request body is too large' },
  ISO_ERR_HTTP_BAD_REQUEST: { status: 400, message: 'the request is not valid HTTP/1.1' },
  ISO_ERR_HTTP_HEADERS_TOO_LARGE: { status: 431, message: 'the request headers are too large: more than 16 KiB, or too many fields' },
  ISO_ERR_HTTP_TIMEOUT: { status: 408, message: 'the request did not arrive in time' },
  ISO_ERR_HTTP_EXPECTATION_FAILED: { status: 417, message: 'the only expectation served is Expect: 100-continue' },
  ISO_ERR_HTTP_BODY_TIMEOUT: { status: 408, message: "the request body did not arrive within the worker's wall-time limit" },
  ISO_ERR_DEPLOY_INVALID_NAME: { status: 400, message: 'invalid worker name' },
  ISO_ERR_DEPLOY_CONTENT_TYPE: { status: 415, message: 'unsupported upload content type' },
  ISO_ERR_DEPLOY_MULTIPART: { status: 400, message: 'malformed multipart body' },
  ISO_ERR_DEPLOY_METADATA: { status: 400, message: 'invalid metadata' },
  ISO_ERR_DEPLOY_MODULE_NAME: { status: 400, message: 'invalid module name' },
  ISO_ERR_DEPLOY_MODULE_MISSING: { status: 400, message: 'a module the worker needs is missing' },
  ISO_ERR_DEPLOY_BINDING: { status: 400, message: 'invalid binding' },
  ISO_ERR_DEPLOY_LIMITS: { status: 400, message: 'invalid limits' },
  ISO_ERR_DEPLOY_TOO_LARGE: { status: 413, message: 'the upload is larger than the size limit' },
  ISO_ERR_DEPLOY_SYNTAX: { status: 400, message: 'the worker does not compile' },
  ISO_ERR_DEPLOY_STARTUP: { status: 400, message: 'the worker failed while starting' },
  ISO_ERR_DEPLOY_UNAVAILABLE: { status: 503, message: 'no serving process could build the version now; retry' },
  ISO_ERR_DEPLOY_SUPERSEDED: { status: 409, message: 'a later deploy or rollback of the worker took effect first' },
  ISO_ERR_DEPLOY_NO_HANDLER: { status: 400, message: 'the worker has neither a fetch nor a scheduled handler' },
  ISO_ERR_SCHEDULE_INVALID: { status: 400, message: 'invalid cron trigger' },
  ISO_ERR_WORKER_EXCEPTION: { status: 500, message: 'the worker threw an exception' },
  ISO_ERR_WORKER_EXCEEDED_CPU: { status: 503, message: 'the worker exceeded its CPU time limit' },
  ISO_ERR_WORKER_EXCEEDED_MEMORY: { status: 503, message: 'the worker exceeded its memory limit' },
  ISO_ERR_WORKER_EXCEEDED_WALL: { status: 504, message: 'the worker did not finish within its wall time limit' },
  ISO_ERR_WORKER_OVERLOADED: { status: 503, message: 'the worker is at its concurrency limit; retry later' },
  ISO_ERR_WORKER_THROTTLED: { status: 503, message: 'the worker keeps running into its CPU or memory limit: its requests are refused for a while; retry later' },
  ISO_ERR_WORKER_CANCELED: { status: 503, message: 'the invocation was canceled' },
  ISO_ERR_WORKER_RESPONSE_TOO_LARGE: { status: 500, message: "the worker's response body is larger than its response_bytes limit" },
  ISO_ERR_SERVICE_DEPTH: { status: 508, message: 'the chain of service-binding calls is too deep' },
  ISO_ERR_SERVICE_CALLS: { status: 508, message: "a request's tree of service-binding calls made too many" },
  ISO_ERR_FETCH_BLOCKED: { status: 403, message: 'outbound fetch to this address is not allowed' },
  ISO_ERR_BODY_INVALID: { status: 400, message: 'invalid request body' },
  ISO_ERR_KV_INVALID: { status: 400, message: 'invalid KV namespace, key, value or option' },
  ISO_ERR_KV_NOT_FOUND: { status: 404, message: 'no such key in this KV namespace' },
  ISO_ERR_D1_INVALID: { status: 400, message: 'invalid D1 database id or query' },
  ISO_ERR_D1_QUERY: { status: 400, message: 'the D1 query failed' },
  ISO_ERR_D1_NOT_FOUND: { status: 404, message: 'no such D1 database' },
  ISO_ERR_TAIL_LIMIT: { status: 429, message: 'too many live tails are open' },
  ISO_ERR_STORE_IO: { status: 500, message: 'the store could not complete the operation' },
  ISO_ERR_CONFIG_INVALID: { status: 500, message: 'invalid configuration' },
  ISO_ERR_INTERNAL: { status: 500, message: 'internal error' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export class IsolaneError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  /** Extra fields for the JSON error body (e.g. line and column of a syntax error). */
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message?: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super(message ?? ERROR_CODES[code].message, { cause: options?.cause });
    this.name = 'IsolaneError';
    this.code = code;
    this.status = ERROR_CODES[code].status;
    this.details = options?.details;
  }

  toJSON(): { error: { code: ErrorCode; message: string } & Record<string, unknown> } {
    return { error: { code: this.code, message: this.message, ...this.details } };
  }
}

export function isIsolaneError(value: unknown): value is IsolaneError {
  return value instanceof IsolaneError;
}
