/** Error answers of the data plane: JSON naming the problem, as the admin API answers. */
import type { ServerResponse } from 'node:http';
import { ERROR_CODES, type ErrorCode } from '../errors.ts';
import type { Outcome } from '../types.ts';

export function sendError(res: ServerResponse, code: ErrorCode, message: string = ERROR_CODES[code].message, requestId?: string, extraHeaders?: Record<string, string>): number {
  const status = ERROR_CODES[code].status;
  if (res.headersSent || res.destroyed) return status;
  const body = JSON.stringify({ error: { code, message }, ...(requestId ? { requestId } : {}) });
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...extraHeaders });
  res.end(body);
  return status;
}

/** The error a failed invocation answers with; its stack goes only to the worker's log. */
export const OUTCOME_ERRORS: Partial<Record<Outcome, ErrorCode>> = {
  exception: 'ISO_ERR_WORKER_EXCEPTION',
  exceededCpu: 'ISO_ERR_WORKER_EXCEEDED_CPU',
  exceededMemory: 'ISO_ERR_WORKER_EXCEEDED_MEMORY',
  exceededWallTime: 'ISO_ERR_WORKER_EXCEEDED_WALL',
  loadShed: 'ISO_ERR_WORKER_OVERLOADED',
  canceled: 'ISO_ERR_WORKER_CANCELED',
  scriptNotFound: 'ISO_ERR_WORKER_NOT_FOUND',
  internalError: 'ISO_ERR_INTERNAL',
  requestTooLarge: 'ISO_ERR_HTTP_BODY_TOO_LARGE',
  responseTooLarge: 'ISO_ERR_WORKER_RESPONSE_TOO_LARGE',
};
