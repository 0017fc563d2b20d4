/**
 * D1 bindings (https://developers.cloudflare.com/d1/worker-api/): `env.NAME` for a `d1` binding is a
 * D1Database: prepare() → D1PreparedStatement (bind, first, all, run, raw), batch(), exec() and
 * withSession(). Each call sends its statements as JSON (host('d1', callId, binding, json)); the host
 * runs them in a D1 process (src/d1/) and answers later with dispatch('d1Result'), as a fetch's answer
 * comes. Values cross as D1's do: numbers, strings, null, and a BLOB as an array of byte values. The
 * binding's name, not a database id, crosses: a worker reaches only the databases it is bound to.
 * The classes are defined when the first binding is made.
 */
import { hostD1 } from '../bridge.ts';
import { bufferSourceBytes } from '../encoding/buffer-source.ts';
import { nameClass } from '../global/define.ts';
import {
  ArrayIsArray,
  CONFIGURABLE,
  defineValue,
  ENUMERABLE,
  ErrorCtor,
  JSONParse,
  JSONStringify,
  MapCtor,
  MapPrototypeDelete,
  MapPrototypeGet,
  MapPrototypeSet,
  ObjectFreeze,
  PromiseCtor,
  TypedArrayPrototypeGetLength,
  TypeErrorCtor,
  WRITABLE,
} from '../primordials.ts';

type D1Value = null | number | string | number[];
interface StatementResult {
  columns: string[];
  rows: D1Value[][];
  meta: Record<string, unknown>;
}
type Answer = { ok: true; results?: StatementResult[]; count?: number; duration?: number } | { ok: false; kind: string; message: string };

const INTERNAL = ObjectFreeze({});
const pending = new MapCtor<number, { resolve: (answer: Answer) => void; reject: (error: unknown) => void }>();
let nextCallId = 0;

/** D1's errors: an Error whose message starts with the kind, with the bare message as its cause. */
function d1Error(kind: string, message: string): Error {
  return new ErrorCtor(`${kind}: ${message}`, { cause: new ErrorCtor(message) });
}

function call(binding: string, request: unknown): Promise<Answer> {
  return new PromiseCtor((resolve, reject) => {
    const id = ++nextCallId;
    const refused = hostD1(id, binding, JSONStringify(request));
    if (refused !== '') {
      reject(d1Error('D1_ERROR', refused));
      return;
    }
    MapPrototypeSet(pending, id, { resolve, reject });
  });
}

/** dispatch('d1Result'): the host's answer to call `id`. */
export function d1Result(id: number, json: string): void {
  const entry = MapPrototypeGet(pending, id);
  if (!entry) return;
  MapPrototypeDelete(pending, id);
  const answer = JSONParse(json) as Answer;
  if (answer.ok) entry.resolve(answer);
  else entry.reject(d1Error(answer.kind, answer.message));
}

/** A value bind() accepts, as it crosses: D1_TYPE_ERROR for anything else, as on D1. */
function bindValue(value: unknown): D1Value {
  if (value === null || typeof value === 'number' || typeof value === 'string') return value;
  if (typeof value === 'boolean') return value ? 1 : 0;
  const bytes = bufferSourceBytes(value, false);
  if (bytes !== null) {
    const out: number[] = [];
    const length = TypedArrayPrototypeGetLength(bytes);
    for (let i = 0; i < length; i++) out[i] = bytes[i]!;
    return out;
  }
  if (ArrayIsArray(value)) {
    const out: number[] = [];
    for (let i = 0; i < value.length; i++) {
      const byte: unknown = value[i];
      if (typeof byte !== 'number' || byte < 0 || byte > 255 || byte !== (byte | 0)) throw d1Error('D1_TYPE_ERROR', `Type 'object' not supported for value '${String(value)}'`);
      out[i] = byte;
    }
    return out;
  }
  throw d1Error('D1_TYPE_ERROR', `Type '${typeof value}' not supported for value '${String(value)}'`);
}

function rowObject(columns: string[], row: D1Value[]): Record<string, unknown> {
  const object: Record<string, unknown> = {};
  // Defined, not assigned: a column may be named __proto__.
  for (let i = 0; i < columns.length; i++) defineValue(object, columns[i]!, row[i], WRITABLE | ENUMERABLE | CONFIGURABLE);
  return object;
}

function resultOf(result: StatementResult): { success: true; meta: Record<string, unknown>; results: Record<string, unknown>[] } {
  const results: Record<string, unknown>[] = [];
  for (let i = 0; i < result.rows.length; i++) results[i] = rowObject(result.columns, result.rows[i]!);
  const meta = result.meta;
  meta.timings = { sql_duration_ms: meta.duration };
  return { success: true, meta, results };
}

function defineD1() {
  class D1PreparedStatement {
    readonly #binding: string;
    readonly #sql: string;
    readonly #params: D1Value[];

    constructor(token: unknown, binding: string, sql: string, params: D1Value[]) {
      if (token !== INTERNAL) throw new TypeErrorCtor('Illegal constructor');
      this.#binding = binding;
      this.#sql = sql;
      this.#params = params;
    }

    bind(...values: unknown[]): D1PreparedStatement {
      const params: D1Value[] = [];
      for (let i = 0; i < values.length; i++) params[i] = bindValue(values[i]);
      return new D1PreparedStatement(INTERNAL, this.#binding, this.#sql, params);
    }

    async first(column: unknown = undefined): Promise<unknown> {
      const [result] = await this.#query();
      if (result!.rows.length === 0) return null;
      const row = rowObject(result!.columns, result!.rows[0]!);
      if (column === undefined) return row;
      const name = `${column as string}`;
      if (result!.columns.indexOf(name) === -1) throw d1Error('D1_COLUMN_NOTFOUND', `Column not found (${name})`);
      return row[name];
    }

    async all(): Promise<unknown> {
      const [result] = await this.#query();
      return resultOf(result!);
    }

    async run(): Promise<unknown> {
      const [result] = await this.#query();
      return resultOf(result!);
    }

    async raw(options: unknown = undefined): Promise<unknown[]> {
      const [result] = await this.#query();
      const withNames = typeof options === 'object' && options !== null && (options as { columnNames?: unknown }).columnNames === true;
      const rows: unknown[] = withNames ? [result!.columns] : [];
      for (let i = 0; i < result!.rows.length; i++) rows[rows.length] = result!.rows[i];
      return rows;
    }

    async #query(): Promise<StatementResult[]> {
      const answer = (await call(this.#binding, { statements: [statementOf(this)] })) as { results: StatementResult[] };
      return answer.results;
    }

    static statementOf(statement: D1PreparedStatement): { sql: string; params: D1Value[] } {
      return { sql: statement.#sql, params: statement.#params };
    }

    static is(value: unknown): value is D1PreparedStatement {
      return typeof value === 'object' && value !== null && #sql in value;
    }
  }
  const statementOf = D1PreparedStatement.statementOf;
  const isStatement = D1PreparedStatement.is;
  delete (D1PreparedStatement as { statementOf?: unknown }).statementOf;
  delete (D1PreparedStatement as { is?: unknown }).is;
  nameClass(D1PreparedStatement, 'D1PreparedStatement');

  async function batch(binding: string, statements: unknown): Promise<unknown[]> {
    if (!ArrayIsArray(statements)) throw new TypeErrorCtor('batch() takes an array of prepared statements.');
    const sent: { sql: string; params: D1Value[] }[] = [];
    for (let i = 0; i < statements.length; i++) {
      const statement: unknown = statements[i];
      if (!isStatement(statement)) throw new TypeErrorCtor(`batch(): item ${i} is not a D1PreparedStatement.`);
      sent[i] = statementOf(statement);
    }
    if (sent.length === 0) return [];
    const answer = (await call(binding, { statements: sent })) as { results: StatementResult[] };
    const results: unknown[] = [];
    for (let i = 0; i < answer.results.length; i++) results[i] = resultOf(answer.results[i]!);
    return results;
  }

  /** What a database and a session of it share: statements and batches on the one binding. */
  class D1Queries {
    readonly #binding: string;

    constructor(token: unknown, binding: string) {
      if (token !== INTERNAL) throw new TypeErrorCtor('Illegal constructor');
      this.#binding = binding;
    }

    prepare(query: unknown): D1PreparedStatement {
      return new D1PreparedStatement(INTERNAL, this.#binding, `${query as string}`, []);
    }

    batch(statements: unknown): Promise<unknown[]> {
      return batch(this.#binding, statements);
    }

    static bindingOf(queries: D1Queries): string {
      return queries.#binding;
    }
  }
  const bindingOf = D1Queries.bindingOf;
  delete (D1Queries as { bindingOf?: unknown }).bindingOf;

  class D1DatabaseSession extends D1Queries {
    /** One database on one machine, no replicas: every read sees the latest write, and there is no bookmark to carry. */
    getBookmark(): null {
      return null;
    }
  }
  nameClass(D1DatabaseSession, 'D1DatabaseSession');

  class D1Database extends D1Queries {
    async exec(query: unknown): Promise<{ count: number; duration: number }> {
      const answer = (await call(bindingOf(this), { exec: `${query as string}` })) as { count: number; duration: number };
      return { count: answer.count, duration: answer.duration };
    }

    /** D1 has deprecated it; the admin API reads a database instead. */
    async dump(): Promise<never> {
      throw d1Error('D1_DUMP_ERROR', 'dump() is not supported');
    }

    withSession(_constraintOrBookmark: unknown = undefined): D1DatabaseSession {
      return new D1DatabaseSession(INTERNAL, bindingOf(this));
    }
  }
  nameClass(D1Database, 'D1Database');
  return D1Database;
}

// Defined on first use: only workers with a D1 binding make one.
let D1DatabaseClass: ReturnType<typeof defineD1> | null = null;

export function createD1Database(binding: string): object {
  return new (D1DatabaseClass ??= defineD1())(INTERNAL, binding);
}
