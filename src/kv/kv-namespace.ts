/**
 * KV namespaces, as Workers KV has them for a worker (`env.NAME.get/put/delete/list`), kept on local disk:
 * one SQLite file per namespace, `<data dir>/kv/<namespace id>.sqlite` (node:sqlite, WAL), which every
 * serving process and the primary's admin API open at once. A namespace exists once something is
 * written to it; workers that bind the same id share it. Unlike Cloudflare's, writes are seen at once
 * everywhere (one machine). Expired keys read as absent and are deleted as they are met and on open.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { LRUCache } from 'lru-cache';
import { IsolaneError } from '../errors.ts';
import { STORAGE_ID } from '../validation/storage-id.ts';

/** Workers KV's limits. */
export const KV_LIMITS = Object.freeze({
  keyBytes: 512,
  valueBytes: 25 * 1024 * 1024,
  metadataBytes: 1024,
  listLimit: 1000,
  /** expiration and expirationTtl: at least 60 s ahead. */
  minTtlSeconds: 60,
});


export function checkNamespaceId(id: string): void {
  if (!STORAGE_ID.test(id)) throw new IsolaneError('ISO_ERR_KV_INVALID', `a KV namespace id is 1 to 64 letters, digits, - or _, not ${JSON.stringify(id)}`);
}

export interface KvValue {
  value: Uint8Array;
  /** The JSON of the metadata put with the value, or null. */
  metadata: string | null;
  /** Seconds since the epoch, or null. */
  expiration: number | null;
}

export interface KvKey {
  name: string;
  expiration?: number;
  metadata?: unknown;
}

export interface KvList {
  keys: KvKey[];
  list_complete: boolean;
  cursor?: string;
}

/** What a caller did wrong: the worker sees it as a TypeError, the admin API as a 400. */
export class KvInputError extends Error {}

const nowSeconds = () => Math.floor(Date.now() / 1000);

export function checkKey(key: string): void {
  const bytes = Buffer.byteLength(key);
  if (bytes === 0) throw new KvInputError('a KV key must not be empty');
  if (bytes > KV_LIMITS.keyBytes) throw new KvInputError(`a KV key is at most ${KV_LIMITS.keyBytes} bytes, not ${bytes}`);
  if (key === '.' || key === '..') throw new KvInputError(`"${key}" is not a valid KV key`);
}

export class KvNamespace {
  readonly #db: DatabaseSync;
  readonly #get: StatementSync;
  readonly #put: StatementSync;
  readonly #delete: StatementSync;
  readonly #list: StatementSync;

  constructor(file: string) {
    this.#db = new DatabaseSync(file);
    // Several processes write: WAL lets readers go on while one writes, and a writer waits its turn.
    this.#db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;');
    this.#db.exec('CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value BLOB NOT NULL, metadata TEXT, expiration INTEGER) WITHOUT ROWID');
    this.#get = this.#db.prepare('SELECT value, metadata, expiration FROM kv WHERE key = ? AND (expiration IS NULL OR expiration > ?)');
    this.#put = this.#db.prepare('INSERT OR REPLACE INTO kv (key, value, metadata, expiration) VALUES (?, ?, ?, ?)');
    this.#delete = this.#db.prepare('DELETE FROM kv WHERE key = ?');
    this.#list = this.#db.prepare(
      'SELECT key, metadata, expiration FROM kv WHERE key >= ? AND key > ? AND substr(key, 1, length(?)) = ? AND (expiration IS NULL OR expiration > ?) ORDER BY key LIMIT ?',
    );
    this.#db.prepare('DELETE FROM kv WHERE expiration IS NOT NULL AND expiration <= ?').run(nowSeconds());
  }

  get(key: string): KvValue | null {
    checkKey(key);
    const row = this.#get.get(key, nowSeconds()) as { value: Uint8Array; metadata: string | null; expiration: number | null } | undefined;
    return row ? { value: row.value, metadata: row.metadata, expiration: row.expiration } : null;
  }

  /** `expiration` in seconds since the epoch; `metadata` as its JSON. */
  put(key: string, value: Uint8Array, options: { expiration?: number | null; expirationTtl?: number | null; metadata?: string | null } = {}): void {
    checkKey(key);
    if (value.byteLength > KV_LIMITS.valueBytes) throw new KvInputError(`a KV value is at most ${KV_LIMITS.valueBytes} bytes, not ${value.byteLength}`);
    const metadata = options.metadata ?? null;
    if (metadata !== null && Buffer.byteLength(metadata) > KV_LIMITS.metadataBytes) {
      throw new KvInputError(`KV metadata is at most ${KV_LIMITS.metadataBytes} bytes of JSON, not ${Buffer.byteLength(metadata)}`);
    }
    const now = nowSeconds();
    let expiration: number | null = null;
    if (options.expirationTtl !== undefined && options.expirationTtl !== null) {
      const ttl = options.expirationTtl;
      if (!Number.isFinite(ttl) || ttl < KV_LIMITS.minTtlSeconds) throw new KvInputError(`expirationTtl must be at least ${KV_LIMITS.minTtlSeconds} seconds, not ${ttl}`);
      expiration = now + Math.floor(ttl);
    } else if (options.expiration !== undefined && options.expiration !== null) {
      const at = options.expiration;
      if (!Number.isFinite(at) || at < now + KV_LIMITS.minTtlSeconds) throw new KvInputError(`expiration must be at least ${KV_LIMITS.minTtlSeconds} seconds in the future, not ${at}`);
      expiration = Math.floor(at);
    }
    this.#put.run(key, value, metadata, expiration);
  }

  delete(key: string): void {
    checkKey(key);
    this.#delete.run(key);
  }

  /** Keys in byte order (as Workers KV lists them), from after `cursor`. */
  list(options: { prefix?: string; limit?: number; cursor?: string } = {}): KvList {
    const prefix = options.prefix ?? '';
    const limit = options.limit ?? KV_LIMITS.listLimit;
    if (!Number.isInteger(limit) || limit < 1 || limit > KV_LIMITS.listLimit) throw new KvInputError(`limit must be 1 to ${KV_LIMITS.listLimit}, not ${limit}`);
    let after = '';
    if (options.cursor) {
      after = Buffer.from(options.cursor, 'base64url').toString('utf8');
      if (Buffer.from(after, 'utf8').toString('base64url') !== options.cursor) throw new KvInputError('the cursor is not one a list returned');
    }
    const rows = this.#list.all(prefix, after, prefix, prefix, nowSeconds(), limit + 1) as { key: string; metadata: string | null; expiration: number | null }[];
    const complete = rows.length <= limit;
    const page = complete ? rows : rows.slice(0, limit);
    const keys = page.map((row) => {
      const key: KvKey = { name: row.key };
      if (row.expiration !== null) key.expiration = row.expiration;
      if (row.metadata !== null) key.metadata = JSON.parse(row.metadata);
      return key;
    });
    return complete ? { keys, list_complete: true } : { keys, list_complete: false, cursor: Buffer.from(page[page.length - 1]!.key, 'utf8').toString('base64url') };
  }

  /** Every key goes. */
  clear(): void {
    this.#db.exec('DELETE FROM kv');
  }

  close(): void {
    this.#db.close();
  }
}

/**
 * Open namespaces a process keeps at most: each holds three file descriptors (the database, its WAL and
 * shared-memory files) and SQLite's page cache, and a platform may bind thousands of namespaces.
 */
export const MAX_OPEN_NAMESPACES = 256;

/**
 * The namespaces of one process, opened on first use; past `maxOpen`, the least recently used one is
 * closed (it opens again on its next use). Callers use a namespace synchronously after `get`.
 */
export class KvNamespaces {
  readonly #dir: string;
  readonly #open: LRUCache<string, KvNamespace>;

  constructor(dir: string, maxOpen = MAX_OPEN_NAMESPACES) {
    this.#dir = dir;
    this.#open = new LRUCache({ max: maxOpen, dispose: (namespace) => namespace.close() });
  }

  /** How many namespaces are open now. */
  get openCount(): number {
    return this.#open.size;
  }

  get(id: string): KvNamespace {
    checkNamespaceId(id);
    let namespace = this.#open.get(id);
    if (!namespace) {
      mkdirSync(this.#dir, { recursive: true });
      namespace = new KvNamespace(join(this.#dir, `${id}.sqlite`));
      this.#open.set(id, namespace);
    }
    return namespace;
  }

  close(): void {
    this.#open.clear();
  }
}
