/**
 * The admin API's KV calls, in the shape of Cloudflare's KV REST API: read, write and list a namespace's
 * keys from outside any worker (to seed data, inspect it, or clear it). Keys in paths are URL-encoded.
 *
 *   GET    /v1/kv/:namespace/keys?prefix=&limit=&cursor=   { keys, list_complete, cursor }
 *   GET    /v1/kv/:namespace/values/:key                   the value's bytes (404 when absent)
 *   PUT    /v1/kv/:namespace/values/:key?expiration_ttl=&expiration=   the body is the value
 *   DELETE /v1/kv/:namespace/values/:key
 *   DELETE /v1/kv/:namespace                               every key goes
 */
import type { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { IsolaneError } from '../errors.ts';
import { checkNamespaceId, KV_LIMITS, KvInputError, type KvNamespaces } from '../kv/kv-namespace.ts';

export function kvRoutes(app: Hono, kv: KvNamespaces): void {
  const attempt = <T>(run: () => T): T => {
    try {
      return run();
    } catch (error) {
      if (error instanceof KvInputError) throw new IsolaneError('ISO_ERR_KV_INVALID', error.message);
      throw error;
    }
  };
  const optionalNumber = (raw: string | undefined, name: string): number | null => {
    if (raw === undefined) return null;
    const value = Number(raw);
    if (!Number.isInteger(value)) throw new IsolaneError('ISO_ERR_KV_INVALID', `${name} must be whole seconds, not ${JSON.stringify(raw)}`);
    return value;
  };

  app.get('/v1/kv/:namespace/keys', (c) => {
    const namespace = kv.get(c.req.param('namespace'));
    const limit = optionalNumber(c.req.query('limit'), 'limit') ?? KV_LIMITS.listLimit;
    return c.json(attempt(() => namespace.list({ prefix: c.req.query('prefix'), limit, cursor: c.req.query('cursor') })));
  });

  app.get('/v1/kv/:namespace/values/:key', (c) => {
    const key = c.req.param('key');
    const found = attempt(() => kv.get(c.req.param('namespace')).get(key));
    if (!found) throw new IsolaneError('ISO_ERR_KV_NOT_FOUND', `no key ${JSON.stringify(key)} in this namespace`);
    const headers: Record<string, string> = { 'content-type': 'application/octet-stream' };
    if (found.metadata !== null) headers['x-kv-metadata'] = found.metadata;
    if (found.expiration !== null) headers['x-kv-expiration'] = String(found.expiration);
    return c.body(new Uint8Array(found.value), 200, headers);
  });

  app.put(
    '/v1/kv/:namespace/values/:key',
    bodyLimit({
      maxSize: KV_LIMITS.valueBytes,
      onError: (c) => c.json(new IsolaneError('ISO_ERR_HTTP_BODY_TOO_LARGE', `a KV value is at most ${KV_LIMITS.valueBytes} bytes`).toJSON(), 413, { connection: 'close' }),
    }),
    async (c) => {
      // The id is checked before the body is read; the namespace is taken after it, as the open ones
      // are bounded and one held across the wait may be closed meanwhile.
      checkNamespaceId(c.req.param('namespace'));
      const key = c.req.param('key');
      const value = new Uint8Array(await c.req.arrayBuffer());
      const namespace = kv.get(c.req.param('namespace'));
      const metadata = c.req.header('x-kv-metadata');
      if (metadata !== undefined) {
        try {
          JSON.parse(metadata);
        } catch {
          throw new IsolaneError('ISO_ERR_KV_INVALID', 'the x-kv-metadata header must be JSON');
        }
      }
      attempt(() =>
        namespace.put(key, value, {
          expirationTtl: optionalNumber(c.req.query('expiration_ttl'), 'expiration_ttl'),
          expiration: optionalNumber(c.req.query('expiration'), 'expiration'),
          metadata: metadata ?? null,
        }),
      );
      return c.json({ key, bytes: value.byteLength });
    },
  );

  app.delete('/v1/kv/:namespace/values/:key', (c) => {
    const key = c.req.param('key');
    attempt(() => kv.get(c.req.param('namespace')).delete(key));
    return c.json({ deleted: key });
  });

  app.delete('/v1/kv/:namespace', (c) => {
    kv.get(c.req.param('namespace')).clear();
    return c.json({ cleared: c.req.param('namespace') });
  });
}
