/**
 * D1 bindings over real HTTP: a Hono app bound to a database (schema applied with the admin API's exec)
 * creates, lists, reads, updates and deletes rows through D1's API (prepare/bind/first/all/run/raw,
 * batch, exec, withSession); values keep their types (integers, reals, text, null, blobs as byte arrays);
 * a failing batch changes nothing; SQL errors are D1_ERROR; SQL that would reach outside the database
 * (ATTACH, VACUUM INTO, PRAGMA writes, transactions) is refused; a query that never ends is stopped
 * while other workers' queries go on; the admin API sees the same data; the data survives a restart.
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { bundleWorker } from '../helpers/bundle.ts';
import { admin, deployMultipart, send, startServer, type TestServer } from '../helpers/server.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'isolane-d1-'));
// A short D1 query limit, so that the test of a query that never ends does not wait D1's 30 s.
const args = ['--d1-query-timeout-ms', '1500'];
let server: TestServer = await startServer(t, { dataDir, args });

const APP = await bundleWorker(
  `import { Hono } from 'hono';
const app = new Hono();
app.post('/notes', async (c) => {
  const { title, score, tags } = await c.req.json();
  const row = await c.env.DB.prepare('INSERT INTO notes (title, score, tags, raw) VALUES (?, ?, ?, ?) RETURNING id')
    .bind(title, score ?? null, tags ?? null, new Uint8Array([0, 127, 255])).first();
  return c.json(row, 201);
});
app.get('/notes', async (c) => c.json(await c.env.DB.prepare('SELECT id, title, score FROM notes ORDER BY id').all()));
app.get('/notes/:id', async (c) => {
  const note = await c.env.DB.prepare('SELECT * FROM notes WHERE id = ?').bind(Number(c.req.param('id'))).first();
  return note ? c.json(note) : c.json({ error: 'not found' }, 404);
});
app.get('/notes/:id/title', async (c) => c.json(await c.env.DB.prepare('SELECT title FROM notes WHERE id = ?1').bind(Number(c.req.param('id'))).first('title')));
app.put('/notes/:id', async (c) => {
  const { title } = await c.req.json();
  const result = await c.env.DB.prepare('UPDATE notes SET title = ? WHERE id = ?').bind(title, Number(c.req.param('id'))).run();
  return c.json({ changes: result.meta.changes, success: result.success });
});
app.delete('/notes/:id', async (c) => c.json((await c.env.DB.prepare('DELETE FROM notes WHERE id = ?').bind(Number(c.req.param('id'))).run()).meta));
app.get('/raw', async (c) => c.json(await c.env.DB.prepare('SELECT id, title FROM notes ORDER BY id LIMIT 2').raw({ columnNames: true })));
app.get('/types', async (c) => c.json(await c.env.DB.prepare('SELECT ? AS i, typeof(?) AS ti, ? AS r, typeof(?) AS tr, ? AS s, ? AS n, ? AS b, ? AS yes, typeof(?) AS tb')
  .bind(42, 42, 1.5, 1.5, 'text', null, new Uint8Array([1, 2]).buffer, true, new Uint8Array([1])).first()));
app.post('/batch', async (c) => {
  const { fail } = await c.req.json();
  const db = c.env.DB;
  try {
    const results = await db.batch([
      db.prepare('INSERT INTO notes (title) VALUES (?)').bind('in batch 1'),
      db.prepare('INSERT INTO notes (title) VALUES (?)').bind('in batch 2'),
      db.prepare(fail ? 'INSERT INTO nowhere (x) VALUES (1)' : 'SELECT count(*) AS n FROM notes'),
    ]);
    return c.json({ results: results.map((r) => ({ success: r.success, results: r.results, changes: r.meta.changes })) });
  } catch (e) {
    return c.json({ error: e.message, cause: e.cause?.message });
  }
});
app.get('/errors', async (c) => {
  const db = c.env.DB;
  const out = {};
  const attempts = {
    missingTable: () => db.prepare('SELECT * FROM missing').all(),
    syntax: () => db.prepare('SELEKT 1').all(),
    attach: () => db.prepare("ATTACH DATABASE '/tmp/isolane-d1-escape.db' AS x").run(),
    vacuumInto: () => db.prepare("VACUUM INTO '/tmp/isolane-d1-escape.db'").run(),
    pragmaWrite: () => db.prepare('PRAGMA journal_mode = DELETE').run(),
    writableSchema: () => db.prepare('PRAGMA writable_schema = ON').run(),
    begin: () => db.prepare('BEGIN TRANSACTION').run(),
    loadExtension: () => db.prepare("SELECT load_extension('/tmp/x.so')").all(),
    undefinedValue: () => db.prepare('SELECT ?').bind(undefined).all(),
    objectValue: () => db.prepare('SELECT ?').bind({ a: 1 }).all(),
    unknownColumn: () => db.prepare('SELECT 1 AS one').first('two'),
    execLine: () => db.exec('CREATE TABLE IF NOT EXISTS t2 (x);\\nINSERT INTO nope VALUES (1)'),
    notStatements: () => db.batch(['SELECT 1']),
  };
  for (const [name, attempt] of Object.entries(attempts)) {
    try { await attempt(); out[name] = 'no error'; } catch (e) { out[name] = e.constructor.name + ': ' + e.message; }
  }
  return c.json(out);
});
app.get('/exec', async (c) => c.json(await c.env.DB.exec('CREATE TABLE IF NOT EXISTS scratch (x);\\nINSERT INTO scratch VALUES (1);\\nINSERT INTO scratch VALUES (2)')));
app.get('/session', async (c) => {
  const session = c.env.DB.withSession('first-primary');
  const row = await session.prepare('SELECT count(*) AS n FROM scratch').first();
  return c.json({ n: row.n, bookmark: session.getBookmark(), shape: [String(c.env.DB), typeof c.env.DB.prepare] });
});
app.get('/forever', async (c) => {
  try {
    await c.env.DB.prepare('WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c').first();
    return c.json('finished');
  } catch (e) {
    return c.json({ error: e.message });
  }
});
export default app;`,
  join(import.meta.dirname, '..', '..'),
);

const SCHEMA = `CREATE TABLE notes (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  title TEXT NOT NULL,
  score REAL,
  tags TEXT,
  raw BLOB
);
CREATE INDEX notes_title ON notes (title);`;

const deploy = (name: string, database: string, extra: Record<string, unknown> = {}) =>
  deployMultipart(server, name, { main_module: 'main.js', bindings: [{ type: 'd1', name: 'DB', id: database }], ...extra }, { 'main.js': APP });
const call = async (worker: string, path: string, method = 'GET', body?: unknown) => {
  const res = await send(server, `${worker}.localhost`, path, { method, headers: body === undefined ? {} : { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: res.status, body: res.json() };
};

t.before(async () => {
  const applied = await admin(server, 'POST', '/v1/d1/notes-db/exec', { body: SCHEMA, headers: { 'content-type': 'application/sql' } });
  if (applied.status !== 200) throw new Error(applied.text);
  for (const [name, database] of [['notes', 'notes-db'], ['spinner', 'spin-db']]) {
    const res = await deploy(name, database);
    if (res.status !== 201) throw new Error(res.text);
  }
});

t.test('a Hono app creates, reads, updates and deletes rows', async (t) => {
  const created = await call('notes', '/notes', 'POST', { title: 'first', score: 4.5, tags: 'a,b' });
  t.equal(created.status, 201);
  t.same(created.body, { id: 1 }, 'RETURNING gives the new id');
  t.same((await call('notes', '/notes', 'POST', { title: 'second' })).body, { id: 2 });

  const listed = (await call('notes', '/notes')).body;
  t.equal(listed.success, true);
  t.same(listed.results, [{ id: 1, title: 'first', score: 4.5 }, { id: 2, title: 'second', score: null }]);
  t.equal(listed.meta.rows_read, 2);
  t.equal(listed.meta.changes, 0);
  t.type(listed.meta.duration, 'number');
  t.ok(listed.meta.size_after > 0, 'meta says how large the database is');

  t.same((await call('notes', '/notes/1')).body, { id: 1, title: 'first', score: 4.5, tags: 'a,b', raw: [0, 127, 255] }, 'a BLOB comes back as its bytes');
  t.equal((await call('notes', '/notes/9')).status, 404, 'first() of no row is null');
  t.equal((await call('notes', '/notes/2/title')).body, 'second', "first('column') gives that column's value");

  t.same((await call('notes', '/notes/2', 'PUT', { title: 'renamed' })).body, { changes: 1, success: true });
  t.same((await call('notes', '/raw')).body, [['id', 'title'], [1, 'first'], [2, 'renamed']], 'raw() with column names');

  const removed = (await call('notes', '/notes/1', 'DELETE')).body;
  t.equal(removed.changes, 1);
  t.equal(removed.changed_db, true);
  t.same((await call('notes', '/notes')).body.results, [{ id: 2, title: 'renamed', score: null }]);
});

t.test('values keep their types: integers, reals, text, null, blobs, booleans as 1 and 0', async (t) => {
  t.same((await call('notes', '/types')).body, { i: 42, ti: 'integer', r: 1.5, tr: 'real', s: 'text', n: null, b: [1, 2], yes: 1, tb: 'blob' });
});

t.test('a batch is one transaction: all of it, or nothing when one statement fails', async (t) => {
  const before = (await call('notes', '/notes')).body.results.length;
  const ok = (await call('notes', '/batch', 'POST', { fail: false })).body;
  t.same(ok.results.map((r: { success: boolean }) => r.success), [true, true, true]);
  t.same(ok.results[0].changes, 1);
  t.same(ok.results[2].results, [{ n: before + 2 }], 'a later statement sees the earlier ones');
  const failed = (await call('notes', '/batch', 'POST', { fail: true })).body;
  t.match(failed.error, /^D1_ERROR: no such table: nowhere/);
  t.match(failed.cause, /^no such table: nowhere/, 'the cause holds the bare message, as on D1');
  t.equal((await call('notes', '/notes')).body.results.length, before + 2, 'the failed batch inserted nothing');
});

t.test('SQL errors, and SQL reaching outside the database, are D1 errors', async (t) => {
  const errors = (await call('notes', '/errors')).body;
  t.match(errors.missingTable, /^Error: D1_ERROR: no such table: missing: SQLITE_ERROR$/);
  t.match(errors.syntax, /^Error: D1_ERROR: .*syntax error/);
  for (const refused of ['attach', 'vacuumInto', 'pragmaWrite', 'writableSchema', 'begin', 'loadExtension']) {
    t.match(errors[refused], /^Error: D1_ERROR: .*(not authorized|authorization denied)/, `${refused} is refused`);
  }
  t.notOk(existsSync('/tmp/isolane-d1-escape.db'), 'no file was written outside the data directory');
  t.match(errors.undefinedValue, /^Error: D1_TYPE_ERROR: Type 'undefined' not supported/);
  t.match(errors.objectValue, /^Error: D1_TYPE_ERROR: Type 'object' not supported/);
  t.match(errors.unknownColumn, /^Error: D1_COLUMN_NOTFOUND/);
  t.match(errors.execLine, /^Error: D1_EXEC_ERROR: Error in line 2: INSERT INTO nope VALUES \(1\): no such table: nope/);
  t.match(errors.notStatements, /^TypeError: batch\(\): item 0 is not a D1PreparedStatement/);
});

t.test('exec() runs each line; a session reads what was written', async (t) => {
  const exec = (await call('notes', '/exec')).body;
  t.equal(exec.count, 3);
  t.type(exec.duration, 'number');
  t.same((await call('notes', '/session')).body, { n: 2, bookmark: null, shape: ['[object D1Database]', 'function'] });
});

t.test('the admin API reads and writes the same database', async (t) => {
  const query = await admin(server, 'POST', '/v1/d1/notes-db/query', { body: JSON.stringify({ sql: 'SELECT title FROM notes WHERE id = ?', params: [2] }) });
  t.equal(query.status, 200);
  t.same(query.json().result[0].results, [{ title: 'renamed' }]);
  const batch = await admin(server, 'POST', '/v1/d1/notes-db/query', { body: JSON.stringify([{ sql: "INSERT INTO notes (title) VALUES ('from admin')" }, { sql: 'SELECT count(*) AS n FROM notes' }]) });
  t.equal(batch.status, 200);
  t.equal(batch.json().result[0].meta.changes, 1);
  const seen = (await call('notes', '/notes')).body.results.map((r: { title: string }) => r.title);
  t.ok(seen.includes('from admin'), 'the worker sees the admin write');

  const list = (await admin(server, 'GET', '/v1/d1')).json().databases.map((d: { id: string }) => d.id);
  t.ok(list.includes('notes-db'), 'the database is listed');

  const bad = [
    await admin(server, 'POST', '/v1/d1/bad!id/query', { body: JSON.stringify({ sql: 'SELECT 1' }) }),
    await admin(server, 'POST', '/v1/d1/notes-db/query', { body: 'not json' }),
    await admin(server, 'POST', '/v1/d1/notes-db/query', { body: JSON.stringify({ sql: 'SELECT ?', params: [{}] }) }),
    await admin(server, 'POST', '/v1/d1/notes-db/query', { body: JSON.stringify({ sql: 'SELECT * FROM missing' }) }),
    await admin(server, 'POST', '/v1/d1/notes-db/query', { body: JSON.stringify({ sql: "ATTACH '/tmp/isolane-d1-escape.db' AS x" }) }),
    await admin(server, 'POST', '/v1/d1/notes-db/exec', { body: 'CREATE TABLE half (x); INSERT INTO nope VALUES (1);' }),
    await admin(server, 'DELETE', '/v1/d1/never-made'),
    await admin(server, 'POST', '/v1/d1/notes-db/query', { body: JSON.stringify({ sql: 'SELECT 1' }), token: null }),
  ];
  t.same(
    bad.map((r) => [r.status, r.json().error.code]),
    [
      [400, 'ISO_ERR_D1_INVALID'],
      [400, 'ISO_ERR_D1_INVALID'],
      [400, 'ISO_ERR_D1_INVALID'],
      [400, 'ISO_ERR_D1_QUERY'],
      [400, 'ISO_ERR_D1_QUERY'],
      [400, 'ISO_ERR_D1_QUERY'],
      [404, 'ISO_ERR_D1_NOT_FOUND'],
      [401, 'ISO_ERR_AUTH_MISSING'],
    ],
  );
  const half = await admin(server, 'POST', '/v1/d1/notes-db/query', { body: JSON.stringify({ sql: "SELECT name FROM sqlite_schema WHERE name = 'half'" }) });
  t.same(half.json().result[0].results, [], 'a failed script left nothing behind');
});

t.test('a query that never ends is stopped; other workers are served meanwhile', async (t) => {
  const forever = call('spinner', '/forever');
  await new Promise((resolve) => setTimeout(resolve, 200));
  const started = Date.now();
  t.equal((await call('notes', '/notes/2/title')).body, 'renamed', "another database's query runs while it spins");
  t.ok(Date.now() - started < 5000, `answered in ${Date.now() - started} ms`);
  const stopped = await forever;
  t.equal(stopped.status, 200);
  t.match(stopped.body.error, /^D1_ERROR: the query ran for more than \d+ ms and was stopped/);
  t.equal((await call('spinner', '/types')).status, 200, 'its database serves again');
});

t.test('the data survives a restart', async (t) => {
  await server.stop();
  server = await startServer(t, { dataDir, args });
  t.same((await call('notes', '/notes/2/title')).body, 'renamed');
});
