/**
 * A D1 database's guard rails (d1-database.ts), on a real SQLite file in this process: what the
 * authorizer lets the tenant's SQL do, D1's limits, the size bound on disk, the result bound, and
 * batches and scripts as transactions.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { D1_LIMITS, D1Database, type D1Answer } from '../../src/d1/d1-database.ts';

const dir = mkdtempSync(join(tmpdir(), 'isolane-d1db-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

function open(name: string, maxBytes?: number): D1Database {
  const database = new D1Database(join(dir, `${name}.sqlite`), maxBytes);
  t.teardown(() => database.close());
  return database;
}
const query = (database: D1Database, sql: string, params: (null | number | string | number[])[] = []) => database.run({ kind: 'query', statements: [{ sql, params }] });
const error = (answer: D1Answer) => (answer.ok ? 'ok' : answer.message);
const rows = (answer: D1Answer) => (answer.ok && 'results' in answer ? answer.results[0]!.rows : null);

t.test('the authorizer: what a worker may and may not run', async (t) => {
  const db = open('policy');
  t.equal(error(db.run({ kind: 'exec', sql: 'CREATE TABLE t (id INTEGER PRIMARY KEY, x TEXT)' })), 'ok');
  const allowed = [
    'PRAGMA table_info(t)',
    'PRAGMA table_list',
    'PRAGMA index_list(t)',
    'PRAGMA foreign_keys',
    'PRAGMA defer_foreign_keys = ON',
    'PRAGMA user_version = 3',
    'PRAGMA quick_check',
    "CREATE VIRTUAL TABLE docs USING fts5(body)",
    "INSERT INTO docs (body) VALUES ('hello world')",
    "SELECT body FROM docs WHERE docs MATCH 'hello'",
    'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 10) SELECT sum(x) FROM c',
    'CREATE TRIGGER t_ins AFTER INSERT ON t BEGIN SELECT 1; END',
    'ALTER TABLE t ADD COLUMN y INTEGER',
  ];
  for (const sql of allowed) t.equal(error(query(db, sql)), 'ok', sql);
  const refused = [
    "ATTACH DATABASE ':memory:' AS other",
    'DETACH DATABASE main',
    "VACUUM INTO '" + join(dir, 'copy.sqlite') + "'",
    'VACUUM',
    'BEGIN',
    'COMMIT',
    'SAVEPOINT s',
    'PRAGMA foreign_keys = OFF',
    'PRAGMA journal_mode = DELETE',
    'PRAGMA writable_schema = 1',
    'PRAGMA page_size = 1024',
    'PRAGMA schema_version = 7',
    'PRAGMA cache_size',
    "PRAGMA temp_store_directory = '/tmp'",
    'CREATE VIRTUAL TABLE r USING rtree(id, a, b)',
    "SELECT load_extension('/tmp/nothing.so')",
    'CREATE TEMP TABLE scratch (x)',
    'CREATE TEMP VIEW v AS SELECT 1',
    'CREATE TEMPORARY TRIGGER tt AFTER INSERT ON t BEGIN SELECT 1; END',
    'SELECT * FROM pragma_database_list',
  ];
  for (const sql of refused) t.match(error(query(db, sql)), /not authorized|authorization denied|too many attached/, sql);
});

t.test("D1's limits: statement length, bound parameters, columns, value size", async (t) => {
  const db = open('limits');
  t.match(error(query(db, `SELECT '${'x'.repeat(D1_LIMITS.sqlBytes)}'`)), /too big|too long/i, 'a statement over 100 KB');
  const many = Array.from({ length: D1_LIMITS.boundParameters + 1 }, () => '?').join(', ');
  t.match(error(query(db, `SELECT ${many}`, Array.from({ length: D1_LIMITS.boundParameters + 1 }, () => 1))), /variable number|too many SQL variables/i, '101 parameters');
  const columns = Array.from({ length: D1_LIMITS.columns + 1 }, (_, i) => `c${i}`).join(', ');
  t.match(error(query(db, `CREATE TABLE wide (${columns})`)), /too many columns/, '101 columns');
  t.match(error(query(db, `SELECT zeroblob(${D1_LIMITS.valueBytes + 1})`)), /too big: SQLITE_TOOBIG/, 'a value over 2 MB');
  t.equal(error(query(db, `SELECT zeroblob(${D1_LIMITS.valueBytes})`)), 'ok', 'one of 2 MB');
});

t.test('a database grows to its size bound and no further', async (t) => {
  const db = open('bounded', 256 * 1024);
  db.run({ kind: 'exec', sql: 'CREATE TABLE big (b BLOB)' });
  let answer: D1Answer = { ok: true, results: [] };
  for (let i = 0; i < 40 && answer.ok; i++) answer = query(db, 'INSERT INTO big VALUES (zeroblob(16384))');
  t.match(error(answer), /full: SQLITE_FULL/, 'past 256 KB a write fails');
  t.ok((rows(query(db, "SELECT count(*) FROM big"))![0]![0] as number) > 5, "what fitted is there");
});

t.test('a result larger than the bound fails instead of filling memory, one wide row too', async (t) => {
  const db = open('result');
  const answer = query(db, 'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 20) SELECT zeroblob(1000000) FROM c');
  t.match(error(answer), /the result is larger than/);
  const wide = Array.from({ length: 100 }, (_, i) => `zeroblob(1990000) AS c${i}`).join(', ');
  t.match(error(query(db, `SELECT ${wide}`)), /the result is larger than/, 'checked cell by cell, before a BLOB becomes numbers');
  // Counted as its JSON will be: 4 MB of BLOB is up to 16 MB of "255," text.
  t.match(error(query(db, 'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 5) SELECT zeroblob(1000000) FROM c')), /the result is larger than/);
});

t.test("the server's own statements read nothing a tenant's object can stand in for", async (t) => {
  const db = open('shadow');
  // A table named like the pragma function the size used to be read with, whose content is a view of the tenant's.
  t.equal(error(db.run({ kind: 'exec', sql: "CREATE VIEW leak AS SELECT 1 AS rowid, 23 AS page_count", script: true })), 'ok');
  t.equal(error(query(db, "CREATE VIRTUAL TABLE pragma_page_count USING fts5(page_count, content='leak')")), 'ok');
  const answer = query(db, 'SELECT 1');
  const size = answer.ok && 'results' in answer ? answer.results[0]!.meta.size_after : -1;
  t.ok(size > 0 && size % 4096 === 0, `size_after is the file's pages (${size}), not the view's number`);
});

t.test('a batch and a script are transactions; exec lines are not', async (t) => {
  const db = open('transactions');
  db.run({ kind: 'exec', sql: 'CREATE TABLE t (x INTEGER UNIQUE)' });
  const batch = db.run({ kind: 'query', statements: [{ sql: 'INSERT INTO t VALUES (1)', params: [] }, { sql: 'INSERT INTO t VALUES (1)', params: [] }] });
  t.match(error(batch), /UNIQUE constraint failed: t.x: SQLITE_CONSTRAINT/);
  t.same(rows(query(db, 'SELECT count(*) FROM t')), [[0]], 'the batch left nothing');
  const script = db.run({ kind: 'exec', sql: 'INSERT INTO t VALUES (2); INSERT INTO nope VALUES (1);', script: true });
  t.match(error(script), /no such table: nope/);
  t.same(rows(query(db, 'SELECT count(*) FROM t')), [[0]], 'the script left nothing');
  const lines = db.run({ kind: 'exec', sql: 'INSERT INTO t VALUES (3)\nINSERT INTO nope VALUES (1)' });
  t.same(lines, { ok: false, kind: 'D1_EXEC_ERROR', message: 'Error in line 2: INSERT INTO nope VALUES (1): no such table: nope: SQLITE_ERROR' });
  t.same(rows(query(db, 'SELECT x FROM t')), [[3]], "exec's lines before the failing one stay, as on D1");
  const long = `CREATE TABLE seeded (v TEXT);\n${Array.from({ length: 3000 }, (_, i) => `INSERT INTO seeded VALUES ('row ${i} ${'y'.repeat(40)}');`).join('\n')}`;
  t.ok(Buffer.byteLength(long) > D1_LIMITS.sqlBytes, 'a script longer than one statement may be');
  t.equal(error(db.run({ kind: 'exec', sql: long, script: true })), 'ok');
  t.same(rows(query(db, 'SELECT count(*) FROM seeded')), [[3000]]);
});

t.test('a prepared text of several statements runs them in turn, as one transaction; the parameters bind to the last', async (t) => {
  const db = open('several');
  const answer = query(db, 'CREATE TABLE m (x); INSERT INTO m VALUES (1); /* then */ INSERT INTO m VALUES (?) RETURNING x;', [5]);
  t.same(rows(answer), [[5]], "the last statement's rows");
  t.equal(answer.ok && 'results' in answer ? answer.results[0]!.meta.changes : -1, 2, 'the changes of all of them');
  t.same(rows(query(db, 'SELECT x FROM m ORDER BY x; -- and nothing more')), [[1], [5]], 'a trailing comment is no statement');
  t.same(rows(query(db, 'SELECT 1\0 SELECT 2')), [[1]], 'nor is what follows a NUL, as SQLite reads the text');
  t.match(error(query(db, 'INSERT INTO m VALUES (9); SELECT * FROM absent')), /no such table: absent/);
  t.same(rows(query(db, 'SELECT count(*) FROM m')), [[2]], 'they are one transaction: the INSERT before the failing statement is gone too');
});

t.test('integers beyond 2^53 come back as the nearest number; a deleted file is noticed', async (t) => {
  const db = open('numbers');
  t.same(rows(query(db, 'SELECT 9007199254740993')), [[9007199254740992]]);
  t.equal(db.isCurrent(), true);
  rmSync(db.file);
  t.equal(db.isCurrent(), false, 'the file it opened is gone');
});
