/**
 * Bearer-token check for the admin API. Both sides are hashed first so the comparison takes the same
 * time whatever the token's length or content. A client address that keeps sending wrong tokens is
 * refused for a while (429) before its token is even looked at, so guessing is slow.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { getConnInfo } from '@hono/node-server/conninfo';
import type { MiddlewareHandler } from 'hono';
import { IsolaneError } from '../errors.ts';

export interface AuthLimits {
  /** Wrong or missing tokens from one address within `windowMs` before it is locked out. */
  maxFailures: number;
  windowMs: number;
}

export const DEFAULT_AUTH_LIMITS: AuthLimits = { maxFailures: 10, windowMs: 60_000 };
const MAX_TRACKED = 10_000;

export function requireToken(token: string, limits: AuthLimits = DEFAULT_AUTH_LIMITS): MiddlewareHandler {
  const expected = digest(token);
  const failures = new Map<string, { count: number; since: number }>();
  return async function adminAuth(c, next) {
    const address = getConnInfo(c).remote.address ?? 'unknown';
    const now = Date.now();
    const record = failures.get(address);
    if (record && now - record.since > limits.windowMs) failures.delete(address);
    else if (record && record.count >= limits.maxFailures) {
      throw new IsolaneError('ISO_ERR_AUTH_RATE_LIMITED', `too many failed attempts; retry after ${Math.ceil((record.since + limits.windowMs - now) / 1000)} s`);
    }
    const header = c.req.header('authorization');
    const match = header ? /^Bearer\s+(.+)$/i.exec(header) : null;
    if (!match || !timingSafeEqual(digest(match[1]!.trim()), expected)) {
      const current = failures.get(address);
      if (current) current.count++;
      else {
        // Bounded memory under a spray from many addresses: forget windows that are over.
        if (failures.size >= MAX_TRACKED) for (const [key, value] of failures) if (now - value.since > limits.windowMs) failures.delete(key);
        if (failures.size < MAX_TRACKED) failures.set(address, { count: 1, since: now });
      }
      throw new IsolaneError(header ? 'ISO_ERR_AUTH_INVALID' : 'ISO_ERR_AUTH_MISSING');
    }
    await next();
  };
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
