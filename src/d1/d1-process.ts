/**
 * A D1 process: runs D1 queries (d1-database.ts) for the process that started it (d1-processes.ts), one
 * at a time, as messages on its IPC channel: in `{ id, database, request }`, out `{ id, answer }`.
 *
 * It is a process so that a query can be stopped: node:sqlite cannot interrupt one, so the parent ends
 * this process when a query runs past its time. SQLite rolls back what it left half done when the
 * database is next opened.
 *
 * Arguments: the databases' directory, and the most bytes one may hold on disk.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { LRUCache } from 'lru-cache';
import { checkDatabaseId, D1Database, type D1Answer, type D1Request } from './d1-database.ts';

/**
 * SQLite's own memory in this process, every connection together (sqlite3_hard_heap_limit64): a query
 * that builds a huge sort or temporary result fails with SQLITE_NOMEM instead of taking the machine's.
 */
const SQLITE_HEAP_BYTES = 256 * 1024 * 1024;
/** Databases kept open between queries (each holds three file descriptors and a page cache). */
const MAX_OPEN = 16;

export interface D1Job {
  id: number;
  database: string;
  request: D1Request;
}

/** Sent once, when it listens: the parent times queries from then. */
export interface D1Ready {
  ready: true;
}

/** The answer as the JSON the isolate parses, made here: not on the serving thread, which only passes it on. */
export interface D1Done {
  id: number;
  json: string;
}

const [dir = '', maxBytesArg = ''] = process.argv.slice(2);
const maxBytes = Number(maxBytesArg);

const open = new LRUCache<string, D1Database>({ max: MAX_OPEN, dispose: (database) => database.close() });

function databaseFor(id: string): D1Database {
  checkDatabaseId(id);
  const cached = open.get(id);
  // Deleted (and perhaps made again) since it was opened: this connection would see the old file.
  if (cached?.isCurrent()) return cached;
  if (cached) open.delete(id);
  mkdirSync(dir, { recursive: true });
  const database = new D1Database(join(dir, `${id}.sqlite`), maxBytes);
  open.set(id, database);
  return database;
}

function run({ database, request }: D1Job): D1Answer {
  try {
    return databaseFor(database).run(request);
  } catch (error) {
    return { ok: false, kind: 'D1_ERROR', message: `the database could not be opened: ${error instanceof Error ? error.message : String(error)}` };
  }
}

const memory = new DatabaseSync(':memory:');
memory.exec(`PRAGMA hard_heap_limit = ${SQLITE_HEAP_BYTES}`);
memory.close();

process.on('message', (job: D1Job) => {
  const done: D1Done = { id: job.id, json: JSON.stringify(run(job)) };
  process.send!(done);
});
// Its queries' time starts now: not while Node starts, which a loaded machine makes slow.
process.send!({ ready: true } satisfies D1Ready);
// The parent went away: nothing is left to answer.
process.on('disconnect', () => {
  open.clear();
  process.exit(0);
});
