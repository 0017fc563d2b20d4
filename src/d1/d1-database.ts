/**
 * One D1 database (https://developers.cloudflare.com/d1/), kept on local disk as one SQLite file,
 * `<data dir>/d1/<database id>.sqlite`, that takes the tenant's own SQL. Only a D1 process
 * (d1-process.ts) opens one: node:sqlite cannot interrupt a query, so a query that runs too long is
 * stopped by ending the process that runs it (d1-processes.ts).
 *
 * The connection is fenced in, because the SQL is the tenant's:
 * - an authorizer refuses ATTACH and DETACH (and so VACUUM, whose INTO writes a file anywhere), explicit
 *   transactions (a batch is the transaction, as on D1: one left open would hold the write lock), PRAGMAs
 *   beyond a read-only list, virtual tables other than FTS5, and load_extension;
 * - SQLite's defensive mode (no writable schema, no raw page writes);
 * - D1's limits: 100 KB statements, 100 bound parameters, 100 columns, 2 MB strings, blobs and rows;
 * - at most `maxBytes` on disk (max_page_count), and a result of at most D1_LIMITS.resultBytes.
 */
import { statSync } from 'node:fs';
import { constants, DatabaseSync, type SQLInputValue, type StatementSync } from 'node:sqlite';
import { IsolaneError } from '../errors.ts';
import { STORAGE_ID } from '../validation/storage-id.ts';

export const D1_LIMITS = Object.freeze({
  sqlBytes: 100_000,
  boundParameters: 100,
  columns: 100,
  valueBytes: 2_000_000,
  /**
   * What one call may answer, in characters of its JSON, counted at most (a guard for the memory of
   * the D1 process and of the isolate that parses it; D1 sets none).
   */
  resultBytes: 16 * 1024 * 1024,
  /** Statements a worker invocation may run, as D1 allows a Workers Paid invocation. */
  queriesPerInvocation: 1000,
  /** Statements in one batch. */
  batchStatements: 1000,
});

/** Size on disk a database may reach (D1's is 10 GB; one machine's disk is shared by every tenant). */
export const D1_DEFAULT_MAX_BYTES = 1024 * 1024 * 1024;


export function checkDatabaseId(id: string): void {
  if (!STORAGE_ID.test(id)) throw new IsolaneError('ISO_ERR_D1_INVALID', `a D1 database id is 1 to 64 letters, digits, - or _, not ${JSON.stringify(id)}`);
}

/** A cell or a bound value as D1 carries them: a BLOB is an array of byte values. */
export type D1Value = null | number | string | number[];

export interface D1Statement {
  sql: string;
  params: D1Value[];
}

/**
 * `query`: one statement (all, first, raw, run), or several run as one transaction (batch).
 * `exec`: each line of `sql` run in turn, no parameters, no results (D1's exec()); with `script`, the
 * whole text at once in one transaction (the admin API's, for migrations).
 */
export type D1Request = { kind: 'query'; statements: D1Statement[] } | { kind: 'exec'; sql: string; script?: boolean };

export interface D1Meta {
  served_by: string;
  duration: number;
  changes: number;
  last_row_id: number;
  changed_db: boolean;
  size_after: number;
  /** Rows returned (SQLite does not count the rows a query read). */
  rows_read: number;
  rows_written: number;
}

export interface D1StatementResult {
  columns: string[];
  rows: D1Value[][];
  meta: D1Meta;
}

/** `kind` is the prefix of the error the worker sees, as D1's. */
export type D1Answer =
  | { ok: true; results: D1StatementResult[] }
  | { ok: true; count: number; duration: number }
  | { ok: false; kind: 'D1_ERROR' | 'D1_EXEC_ERROR'; message: string };

/** PRAGMAs a worker may run: they read the schema or check it (and D1's defer_foreign_keys). */
const PRAGMAS = new Set(['table_info', 'table_xinfo', 'table_list', 'index_list', 'index_info', 'index_xinfo', 'foreign_key_list', 'foreign_key_check', 'quick_check', 'integrity_check', 'optimize', 'defer_foreign_keys', 'foreign_keys', 'page_count', 'page_size', 'freelist_count', 'data_version', 'schema_version', 'user_version']);
/** Of those, the ones whose argument would set a value, and of these the two a worker may set. */
const VALUE_PRAGMAS = new Set(['defer_foreign_keys', 'foreign_keys', 'page_count', 'page_size', 'freelist_count', 'data_version', 'schema_version', 'user_version']);
const SETTABLE_PRAGMAS = new Set(['defer_foreign_keys', 'user_version']);
const DENIED_FUNCTIONS = new Set(['load_extension', 'fts3_tokenizer']);

const SQLITE_CODES: Record<number, string> = {
  1: 'SQLITE_ERROR', 2: 'SQLITE_INTERNAL', 4: 'SQLITE_ABORT', 5: 'SQLITE_BUSY', 6: 'SQLITE_LOCKED', 7: 'SQLITE_NOMEM', 8: 'SQLITE_READONLY',
  9: 'SQLITE_INTERRUPT', 10: 'SQLITE_IOERR', 11: 'SQLITE_CORRUPT', 13: 'SQLITE_FULL', 18: 'SQLITE_TOOBIG', 19: 'SQLITE_CONSTRAINT',
  20: 'SQLITE_MISMATCH', 23: 'SQLITE_AUTH', 25: 'SQLITE_RANGE',
};

/** An error the tenant's SQL caused: its message goes back to the worker. */
export class D1QueryError extends Error {}

/** node:sqlite's message with SQLite's code name, as D1 words its errors ("no such table: t: SQLITE_ERROR"). */
function queryError(error: unknown): D1QueryError {
  if (error instanceof D1QueryError) return error;
  const err = error as { message?: unknown; errcode?: unknown };
  const message = typeof err?.message === 'string' ? err.message : String(error);
  const code = typeof err?.errcode === 'number' ? SQLITE_CODES[err.errcode & 0xff] : undefined;
  return new D1QueryError(code ? `${message}: ${code}` : message);
}

function bindable(value: D1Value): SQLInputValue {
  // A whole number binds as an INTEGER, as D1 binds it (node:sqlite binds every number as a REAL).
  if (typeof value === 'number') return Number.isSafeInteger(value) ? BigInt(value) : value;
  if (Array.isArray(value)) return Uint8Array.from(value);
  return value;
}

/**
 * A cell as D1 answers it. `size` counts the call's answer as its JSON will be, at most (a byte of a
 * BLOB is up to 4 characters, "255,"; a character of text up to 6, "\u0001"), and is checked before a
 * BLOB becomes an array: a row of 100 cells of 2 MB each would otherwise be 1.6 GB of numbers.
 */
function cell(value: unknown, size: { bytes: number }): D1Value {
  if (value === null) return count(size, 5, null);
  if (typeof value === 'bigint') return count(size, 24, Number(value));
  if (typeof value === 'number') return count(size, 24, value);
  if (typeof value === 'string') return count(size, value.length * 6 + 2, value);
  const bytes = value as Uint8Array;
  count(size, bytes.byteLength * 4 + 2, null);
  return Array.from(bytes);
}

function count<T>(size: { bytes: number }, bytes: number, value: T): T {
  size.bytes += bytes;
  if (size.bytes > D1_LIMITS.resultBytes) throw new D1QueryError(`the result is larger than ${D1_LIMITS.resultBytes} bytes`);
  return value;
}

export class D1Database {
  readonly file: string;
  readonly #db: DatabaseSync;
  /** The file's inode when opened: a database deleted (admin API) and made again is opened again. */
  readonly #inode: number;
  /** Set while this class begins or ends a transaction: the one thing the tenant's SQL may not do. */
  #transactionControl = false;
  /** Its own statements, which the policy allows as it allows the tenant's. */
  readonly #changes: StatementSync;
  readonly #totalChanges: StatementSync;
  readonly #pageCount: StatementSync;
  readonly #pageSize: number;

  constructor(file: string, maxBytes = D1_DEFAULT_MAX_BYTES) {
    this.file = file;
    this.#db = new DatabaseSync(file, {
      enableForeignKeyConstraints: true,
      allowExtension: false,
      timeout: 5000,
      limits: { attach: 0, sqlLength: D1_LIMITS.sqlBytes, variableNumber: D1_LIMITS.boundParameters, column: D1_LIMITS.columns, length: D1_LIMITS.valueBytes },
    });
    try {
      this.#inode = statSync(file).ino;
      this.#db.enableDefensive(true);
      // Several processes write (each serving process has its own D1 processes): WAL lets readers go on
      // while one writes. FULL: a write D1 acknowledged survives a power cut too.
      // temp_store MEMORY: a sort or a temporary result too big for memory fails against the process's
      // SQLite heap limit (d1-process.ts) instead of filling the disk with temporary files, which
      // max_page_count does not bound.
      this.#db.exec(`PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA temp_store = MEMORY; PRAGMA max_page_count = ${Math.max(1, Math.floor(maxBytes / 4096))};`);
      // The policy holds for this class's own statements too, so that no object of the tenant's
      // (a view or table named like what they read) is ever read unchecked: only BEGIN/COMMIT/ROLLBACK
      // pass, while this class runs them.
      this.#db.setAuthorizer((action, first, second) =>
        allowed(action, first, second) || (this.#transactionControl && action === constants.SQLITE_TRANSACTION) ? constants.SQLITE_OK : constants.SQLITE_DENY,
      );
      this.#changes = this.#db.prepare('SELECT changes(), last_insert_rowid(), total_changes()');
      this.#changes.setReturnArrays(true);
      this.#totalChanges = this.#db.prepare('SELECT total_changes()');
      this.#totalChanges.setReturnArrays(true);
      // A PRAGMA statement names SQLite's own pragma: no object of the tenant's can stand in for it.
      this.#pageCount = this.#db.prepare('PRAGMA main.page_count');
      this.#pageCount.setReturnArrays(true);
      this.#pageSize = Number((this.#db.prepare('PRAGMA main.page_size').get() as Record<string, unknown>).page_size);
    } catch (error) {
      this.#db.close();
      throw error;
    }
  }

  /** Whether the file is still the one this connection opened. */
  isCurrent(): boolean {
    try {
      return statSync(this.file).ino === this.#inode;
    } catch {
      return false;
    }
  }

  run(request: D1Request): D1Answer {
    try {
      if (request.kind === 'exec') return request.script ? this.#script(request.sql) : this.#execLines(request.sql);
      return { ok: true, results: this.#query(request.statements) };
    } catch (error) {
      const failure = queryError(error);
      return { ok: false, kind: request.kind === 'exec' && !request.script ? 'D1_EXEC_ERROR' : 'D1_ERROR', message: failure.message };
    }
  }

  close(): void {
    if (this.#db.isOpen) this.#db.close();
  }

  #query(statements: D1Statement[]): D1StatementResult[] {
    if (statements.length === 1) return [this.#statement(statements[0]!, { bytes: 0 })];
    const size = { bytes: 0 };
    return this.#transaction(() => statements.map((statement) => this.#statement(statement, size)));
  }

  /**
   * One prepared text, which may hold several statements (a schema, say): they run in turn, in one
   * transaction (all or none), the parameters bound to the last, whose rows are the result; meta counts
   * the changes of them all.
   */
  #statement(text: D1Statement, size: { bytes: number }): D1StatementResult {
    const started = performance.now();
    const first = this.#db.prepare(text.sql);
    const several = hasStatement(text.sql.slice(first.sourceSQL.length));
    const run = () => this.#statements(first, text, size, started);
    return several && !this.#db.isTransaction ? this.#transaction(run) : run();
  }

  #statements(first: StatementSync, { sql, params }: D1Statement, size: { bytes: number }, started: number): D1StatementResult {
    let rest = sql;
    let changes = 0;
    let statement: StatementSync | null = first;
    for (;;) {
      const before = Number(row(this.#totalChanges)[0]);
      statement ??= this.#db.prepare(rest);
      rest = rest.slice(statement.sourceSQL.length);
      const last = !hasStatement(rest);
      const { columns, rows } = this.#step(statement, last ? params : [], size);
      statement = null;
      const [changed, lastRowId, total] = row(this.#changes).map(Number) as [number, number, number];
      if (total !== before) changes += changed;
      if (!last) continue;
      const duration = performance.now() - started;
      const sizeAfter = Number(row(this.#pageCount)[0]) * this.#pageSize;
      return {
        columns,
        rows,
        meta: { served_by: 'isolane-d1', duration, changes, last_row_id: lastRowId, changed_db: changes > 0, size_after: sizeAfter, rows_read: rows.length, rows_written: changes },
      };
    }
  }

  #step(statement: StatementSync, params: D1Value[], size: { bytes: number }): { columns: string[]; rows: D1Value[][] } {
    statement.setReturnArrays(true);
    statement.setReadBigInts(true);
    const columns = statement.columns().map((column) => column.name);
    const rows: D1Value[][] = [];
    const values = params.map(bindable);
    if (columns.length === 0) statement.run(...values);
    else {
      for (const row of statement.iterate(...values) as Iterable<unknown[]>) rows.push(row.map((value) => cell(value, size)));
    }
    return { columns, rows };
  }

  /** D1's exec(): each line a query of its own, in turn; an error names its line. */
  #execLines(sql: string): D1Answer {
    const started = performance.now();
    const lines = sql.trim().split('\n');
    for (let i = 0; i < lines.length; i++) {
      try {
        this.#db.exec(lines[i]!);
      } catch (error) {
        throw new D1QueryError(`Error in line ${i + 1}: ${lines[i]}: ${queryError(error).message}`);
      }
    }
    return { ok: true, count: lines.length, duration: performance.now() - started };
  }

  /**
   * A whole script (many statements) in one transaction: all of it or none. SQLite measures a
   * statement's length to the end of the text it is given, so the script's length is allowed for it.
   */
  #script(sql: string): D1Answer {
    const started = performance.now();
    const limits = this.#db.limits;
    limits.sqlLength = Math.max(D1_LIMITS.sqlBytes, Buffer.byteLength(sql) + 1);
    try {
      this.#transaction(() => this.#db.exec(sql));
    } finally {
      limits.sqlLength = D1_LIMITS.sqlBytes;
    }
    return { ok: true, count: 1, duration: performance.now() - started };
  }

  #transaction<T>(body: () => T): T {
    this.#control('BEGIN IMMEDIATE');
    try {
      const result = body();
      this.#control('COMMIT');
      return result;
    } catch (error) {
      if (this.#db.isTransaction) this.#control('ROLLBACK');
      throw error;
    }
  }

  #control(sql: 'BEGIN IMMEDIATE' | 'COMMIT' | 'ROLLBACK'): void {
    this.#transactionControl = true;
    try {
      this.#db.exec(sql);
    } finally {
      this.#transactionControl = false;
    }
  }
}

function row(statement: StatementSync): unknown[] {
  return statement.get() as unknown as unknown[];
}

/** The authorizer's policy for the tenant's SQL (see the file's comment). */
function allowed(action: number, first: string | null, second: string | null): boolean {
  switch (action) {
    case constants.SQLITE_ATTACH:
    case constants.SQLITE_DETACH:
    case constants.SQLITE_TRANSACTION:
    case constants.SQLITE_SAVEPOINT:
    // A temporary object lives on the D1 process's connection, past the call, in memory every
    // database of that process shares.
    case constants.SQLITE_CREATE_TEMP_INDEX:
    case constants.SQLITE_CREATE_TEMP_TABLE:
    case constants.SQLITE_CREATE_TEMP_TRIGGER:
    case constants.SQLITE_CREATE_TEMP_VIEW:
      return false;
    case constants.SQLITE_PRAGMA: {
      const name = (first ?? '').toLowerCase();
      // Others take a table or an index as their argument (table_info(t)).
      return PRAGMAS.has(name) && (second === null || !VALUE_PRAGMAS.has(name) || SETTABLE_PRAGMAS.has(name));
    }
    case constants.SQLITE_CREATE_VTABLE:
    case constants.SQLITE_DROP_VTABLE:
      return (second ?? '').toLowerCase() === 'fts5';
    case constants.SQLITE_FUNCTION:
      return !DENIED_FUNCTIONS.has((second ?? '').toLowerCase());
    default:
      return true;
  }
}

/** Whether `text` holds anything but whitespace, semicolons and comments: another statement. */
function hasStatement(text: string): boolean {
  let at = 0;
  while (at < text.length) {
    const char = text[at]!;
    if (char === '\0') return false;
    if (char === ';' || /\s/.test(char)) at++;
    else if (text.startsWith('--', at)) {
      const end = text.indexOf('\n', at);
      at = end === -1 ? text.length : end + 1;
    } else if (text.startsWith('/*', at)) {
      const end = text.indexOf('*/', at + 2);
      at = end === -1 ? text.length : end + 2;
    } else return true;
  }
  return false;
}
