/**
 * The bridge's `kv` op: one KV operation of a worker's binding, done at once (SQLite is synchronous and
 * local; its time is the invocation's, as any host call in a slice). The worker names its binding, never
 * a namespace: the binding's namespace id comes from the deployed version. Answers
 * `[error, json, bytes]` like crypto.subtle's op: `error` '' on success, else a message the runtime
 * throws as a TypeError.
 */
import { boundAs, type Version } from '../types.ts';
import { KvInputError, type KvNamespaces } from './kv-namespace.ts';

/** Workers KV allows 1,000 operations per invocation. */
export const MAX_KV_OPS_PER_INVOCATION = 1000;
/** Keys one bulk get may ask for, as on Workers: one operation. */
const MAX_BULK_KEYS = 100;

export type KvResult = [error: string, json: string, bytes: ArrayBuffer | null];

export function kvCall(namespaces: KvNamespaces, version: Version, args: unknown[]): KvResult {
  const [op, binding, key, value, optionsJson] = args as [string, string, string, ArrayBuffer | null, string];
  const bound = boundAs(version.bindings, binding, 'kv_namespace');
  if (!bound?.namespaceId) return [`no KV namespace is bound as ${String(binding)}`, '', null];
  try {
    const namespace = namespaces.get(bound.namespaceId);
    const options = typeof optionsJson === 'string' && optionsJson !== '' ? (JSON.parse(optionsJson) as Record<string, unknown>) : {};
    switch (op) {
      case 'get': {
        const found = namespace.get(String(key));
        if (!found) return ['', 'null', null];
        // node:sqlite gives each BLOB a buffer of its own: handed over as it is, not copied again.
        const bytes = found.value;
        const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
        return ['', found.metadata ?? 'null', (whole ? bytes.buffer : bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)) as ArrayBuffer];
      }
      case 'getMany': {
        // A bulk get is one operation, as on Workers: `key` is a JSON array of up to 100 keys; the answer's
        // json is [metadata or null, length or -1] per key, its bytes the values one after another.
        const keys = JSON.parse(String(key)) as unknown;
        if (!Array.isArray(keys) || keys.length > MAX_BULK_KEYS) return [`a bulk get takes at most ${MAX_BULK_KEYS} keys`, '', null];
        const found = keys.map((name) => namespace.get(String(name)));
        const parts = found.map((entry) => [entry ? entry.metadata ?? null : null, entry ? entry.value.byteLength : -1]);
        // Not Buffer.concat: a small result comes from Node's pool, and its .buffer is the whole pool.
        const values = new Uint8Array(found.reduce((sum, entry) => sum + (entry ? entry.value.byteLength : 0), 0));
        let offset = 0;
        for (const entry of found) {
          if (!entry) continue;
          values.set(entry.value, offset);
          offset += entry.value.byteLength;
        }
        return ['', JSON.stringify(parts), values.buffer];
      }
      case 'put':
        namespace.put(String(key), new Uint8Array(value instanceof ArrayBuffer ? value : new ArrayBuffer(0)), {
          expiration: typeof options.expiration === 'number' ? options.expiration : null,
          expirationTtl: typeof options.expirationTtl === 'number' ? options.expirationTtl : null,
          metadata: options.metadata === undefined ? null : JSON.stringify(options.metadata),
        });
        return ['', '', null];
      case 'delete':
        namespace.delete(String(key));
        return ['', '', null];
      case 'list':
        return [
          '',
          JSON.stringify(
            namespace.list({
              prefix: typeof options.prefix === 'string' ? options.prefix : undefined,
              limit: typeof options.limit === 'number' ? options.limit : undefined,
              cursor: typeof options.cursor === 'string' ? options.cursor : undefined,
            }),
          ),
          null,
        ];
      default:
        return [`unknown KV operation ${String(op)}`, '', null];
    }
  } catch (error) {
    if (error instanceof KvInputError) return [error.message, '', null];
    // The disk or the database failed: the worker sees an error, the operator a warning.
    process.emitWarning(`KV ${String(op)} on ${bound.namespaceId} failed: ${error instanceof Error ? error.message : String(error)}`);
    return ['the KV operation failed on the server', '', null];
  }
}
