import { IsolaneError } from '../errors.ts';

/** DNS-label shaped: safe as a path segment, a subdomain and a log field. */
export const WORKER_NAME = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

export function isWorkerName(name: unknown): name is string {
  return typeof name === 'string' && WORKER_NAME.test(name);
}

export function assertWorkerName(name: unknown): asserts name is string {
  if (!isWorkerName(name)) {
    throw new IsolaneError(
      'ISO_ERR_DEPLOY_INVALID_NAME',
      'a worker name is 1-63 lower-case letters, digits and hyphens, starting and ending with a letter or digit',
      { details: { name: typeof name === 'string' ? name.slice(0, 100) : null } },
    );
  }
}
