/**
 * The admin API's D1 calls: run SQL on a database from outside any worker (to apply migrations, seed
 * data, inspect it), in the spirit of Cloudflare's D1 REST API. They run in the admin API's own D1
 * processes, under the same guard rails as a worker's queries (src/d1/d1-database.ts).
 *
 *   GET    /v1/d1                      { databases: [{ id, bytes }] }
 *   POST   /v1/d1/:database/query      { "sql", "params"? } or an array of them (one transaction)
 *                                      → { result: [{ results, success, meta }] }
 *   POST   /v1/d1/:database/exec       the body is a SQL script (many statements), run as one transaction
 *                                      → { success, duration }
 *   DELETE /v1/d1/:database            the database's files go
 */
import { readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { IsolaneError } from '../errors.ts';
import { D1RequestError, parseD1Request } from '../d1/d1-calls.ts';
import { checkDatabaseId, D1_LIMITS, type D1Answer, type D1Request } from '../d1/d1-database.ts';
import { parseAnswer, type D1Processes } from '../d1/d1-processes.ts';
import { STORAGE_ID } from '../validation/storage-id.ts';

/** A script for /exec: migrations and seed data. */
const MAX_SCRIPT_BYTES = 10 * 1024 * 1024;
const MAX_QUERY_BODY_BYTES = (D1_LIMITS.sqlBytes + 64 * 1024) * 16;


export function d1Routes(app: Hono, d1: D1Processes): void {
  const run = async (database: string, request: D1Request): Promise<D1Answer & { ok: true }> => {
    const answer = parseAnswer(await d1.query(database, request, Date.now() + 60_000));
    if (!answer.ok) throw new IsolaneError('ISO_ERR_D1_QUERY', answer.message);
    return answer;
  };
  const tooLarge = (limit: number) => bodyLimit({
    maxSize: limit,
    onError: (c) => c.json(new IsolaneError('ISO_ERR_HTTP_BODY_TOO_LARGE', `the body is at most ${limit} bytes`).toJSON(), 413, { connection: 'close' }),
  });

  app.get('/v1/d1', (c) => {
    let names: string[] = [];
    try {
      names = readdirSync(d1.dir);
    } catch {
      // No database was made yet.
    }
    const databases = names.flatMap((name) => {
      const id = name.endsWith('.sqlite') ? name.slice(0, -'.sqlite'.length) : '';
      return STORAGE_ID.test(id) ? [{ id, bytes: statSync(join(d1.dir, name)).size }] : [];
    });
    return c.json({ databases });
  });

  app.post('/v1/d1/:database/query', tooLarge(MAX_QUERY_BODY_BYTES), async (c) => {
    const database = c.req.param('database');
    checkDatabaseId(database);
    let body: unknown;
    try {
      body = JSON.parse(await c.req.text());
    } catch {
      throw new IsolaneError('ISO_ERR_D1_INVALID', 'the body must be JSON: {"sql": "…", "params": […]} or an array of them');
    }
    let request: D1Request;
    try {
      request = parseD1Request(JSON.stringify({ statements: Array.isArray(body) ? body : [body] }));
    } catch (error) {
      if (error instanceof D1RequestError) throw new IsolaneError('ISO_ERR_D1_INVALID', error.message);
      throw error;
    }
    const answer = await run(database, request);
    const results = 'results' in answer ? answer.results : [];
    return c.json({
      result: results.map((result) => ({ results: result.rows.map((row) => Object.fromEntries(result.columns.map((column, i) => [column, row[i]]))), success: true, meta: result.meta })),
    });
  });

  app.post('/v1/d1/:database/exec', tooLarge(MAX_SCRIPT_BYTES), async (c) => {
    const database = c.req.param('database');
    checkDatabaseId(database);
    const sql = await c.req.text();
    if (sql.trim() === '') throw new IsolaneError('ISO_ERR_D1_INVALID', 'the body must be a SQL script');
    const answer = await run(database, { kind: 'exec', sql, script: true });
    return c.json({ success: true, duration: 'duration' in answer ? answer.duration : 0 });
  });

  app.delete('/v1/d1/:database', (c) => {
    const database = c.req.param('database');
    checkDatabaseId(database);
    const file = join(d1.dir, `${database}.sqlite`);
    try {
      statSync(file);
    } catch {
      throw new IsolaneError('ISO_ERR_D1_NOT_FOUND', `no D1 database ${JSON.stringify(database)}`);
    }
    // Processes that have it open see the file is gone at their next query and open a new one.
    for (const suffix of ['', '-wal', '-shm']) rmSync(file + suffix, { force: true });
    return c.json({ deleted: database });
  });
}
