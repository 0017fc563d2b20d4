/**
 * Bearer-token check for the admin API. Both sides are hashed first so the comparison takes the same
 * time whatever the token's length or content.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { IsolaneError } from '../errors.ts';

export function requireToken(token: string): MiddlewareHandler {
  const expected = digest(token);
  return async function adminAuth(c, next) {
    const header = c.req.header('authorization');
    if (!header) throw new IsolaneError('ISO_ERR_AUTH_MISSING');
    const match = /^Bearer\s+(.+)$/i.exec(header);
    if (!match || !timingSafeEqual(digest(match[1]!.trim()), expected)) throw new IsolaneError('ISO_ERR_AUTH_INVALID');
    await next();
  };
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
