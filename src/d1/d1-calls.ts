/**
 * The bridge's `d1` op: one call of a worker's D1 binding (runtime/workers/d1.ts), as JSON. The worker
 * names its binding, never a database: the id comes from the deployed version, so a worker reaches only
 * the databases it is bound to. The request is checked here, whatever the runtime sent.
 */
import { boundAs, type Version } from '../types.ts';
import { D1_LIMITS, type D1Request, type D1Statement, type D1Value } from './d1-database.ts';

/** A request the host refuses before it runs: the worker sees D1_ERROR with the message. */
export class D1RequestError extends Error {}

/** The database bound as `binding` in `version`, or null. */
export function d1DatabaseOf(version: Version, binding: string): string | null {
  return boundAs(version.bindings, binding, 'd1')?.databaseId ?? null;
}

/** exec()'s text: its lines are statements of at most D1_LIMITS.sqlBytes each. */
const MAX_EXEC_CHARS = 1024 * 1024;

function value(raw: unknown, where: string): D1Value {
  if (raw === null) return raw;
  if (typeof raw === 'string') {
    if (raw.length > D1_LIMITS.valueBytes) throw new D1RequestError(`${where}: a string is at most ${D1_LIMITS.valueBytes} bytes`);
    return raw;
  }
  if (typeof raw === 'number') {
    if (!Number.isFinite(raw)) throw new D1RequestError(`${where}: ${raw} cannot be stored`);
    return raw;
  }
  if (Array.isArray(raw) && raw.length > D1_LIMITS.valueBytes) throw new D1RequestError(`${where}: a BLOB is at most ${D1_LIMITS.valueBytes} bytes`);
  if (Array.isArray(raw) && raw.every((byte) => Number.isInteger(byte) && byte >= 0 && byte <= 255)) return raw as number[];
  throw new D1RequestError(`${where}: a value is null, a number, a string or bytes`);
}

function statement(raw: unknown, index: number): D1Statement {
  const where = `statement ${index + 1}`;
  if (typeof raw !== 'object' || raw === null) throw new D1RequestError(`${where} is not a statement`);
  const { sql, params } = raw as { sql?: unknown; params?: unknown };
  if (typeof sql !== 'string') throw new D1RequestError(`${where}: the SQL must be a string`);
  if (Buffer.byteLength(sql) > D1_LIMITS.sqlBytes) throw new D1RequestError(`${where}: a statement is at most ${D1_LIMITS.sqlBytes} bytes`);
  if (sql.trim() === '') throw new D1RequestError(`${where}: the SQL is empty`);
  if (params !== undefined && !Array.isArray(params)) throw new D1RequestError(`${where}: params must be an array`);
  const values = (params ?? []) as unknown[];
  if (values.length > D1_LIMITS.boundParameters) throw new D1RequestError(`${where}: at most ${D1_LIMITS.boundParameters} bound parameters`);
  return { sql, params: values.map((v, i) => value(v, `${where}, parameter ${i + 1}`)) };
}

/** A request's JSON, checked: `{ statements: [{ sql, params }] }` or `{ exec: sql }`. */
export function parseD1Request(json: string): D1Request {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    throw new D1RequestError('the request is not JSON');
  }
  if (typeof raw !== 'object' || raw === null) throw new D1RequestError('the request is not an object');
  const { statements, exec } = raw as { statements?: unknown; exec?: unknown };
  if (typeof exec === 'string') {
    if (exec.trim() === '') throw new D1RequestError('exec() needs SQL');
    if (exec.length > MAX_EXEC_CHARS) throw new D1RequestError(`exec() takes at most ${MAX_EXEC_CHARS} characters`);
    return { kind: 'exec', sql: exec };
  }
  if (!Array.isArray(statements) || statements.length === 0) throw new D1RequestError('no statement to run');
  if (statements.length > D1_LIMITS.batchStatements) throw new D1RequestError(`a batch is at most ${D1_LIMITS.batchStatements} statements`);
  return { kind: 'query', statements: statements.map(statement) };
}

/** How many of an invocation's queries a request counts as. */
export function queryCount(request: D1Request): number {
  return request.kind === 'query' ? request.statements.length : 1;
}
