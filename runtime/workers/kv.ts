/**
 * KV bindings (https://developers.cloudflare.com/kv/api/): `env.NAME` for a `kv_namespace` binding is a
 * KVNamespace with get / getWithMetadata (of one key, or of up to 100 as a Map) / put / delete / list. Each operation is one host call
 * (host('kv', op, binding, key, value, optionsJson), src/kv/kv-calls.ts), done at once; the methods are
 * async as on Workers; the class is defined when the first binding is made. The binding's name, not a namespace id, crosses: the host looks the id up in the
 * deployed version, so a worker reaches only the namespaces it is bound to.
 */
import { hostKv } from '../bridge.ts';
import { bufferSourceBytes, copyBytes } from '../encoding/buffer-source.ts';
import { utf8Encode } from '../encoding/utf8.ts';
import { nameClass } from '../global/define.ts';
import { Response } from '../http/response.ts';
import { ArrayBufferPrototypeSlice, ArrayIsArray, JSONParse, JSONStringify, MapCtor, MapPrototypeSet, ObjectFreeze, TypedArrayPrototypeGetBuffer } from '../primordials.ts';
import { isReadableStream } from '../streams/web-streams.ts';

const INTERNAL = ObjectFreeze({});
/** Keys one bulk get may ask for, as on Workers. */
const MAX_BULK_KEYS = 100;
type ValueType = 'text' | 'json' | 'arrayBuffer' | 'stream';

function typeOf(options: unknown): ValueType {
  const type = typeof options === 'string' ? options : typeof options === 'object' && options !== null ? (options as { type?: unknown }).type : undefined;
  if (type === undefined) return 'text';
  if (type !== 'text' && type !== 'json' && type !== 'arrayBuffer' && type !== 'stream') throw new TypeError(`KV get() type must be "text", "json", "arrayBuffer" or "stream", not ${String(type)}.`);
  return type;
}

function check([error, json, bytes]: [string, string, ArrayBuffer | null]): [string, ArrayBuffer | null] {
  if (error !== '') throw new TypeError(`KV: ${error}.`);
  return [json, bytes];
}

async function valueAs(bytes: ArrayBuffer, type: ValueType): Promise<unknown> {
  if (type === 'arrayBuffer') return bytes;
  const response = new Response(bytes);
  if (type === 'stream') return response.body;
  return type === 'json' ? await response.json() : await response.text();
}

async function valueBytes(value: unknown): Promise<ArrayBuffer> {
  // Other primitives are stored as their text, as workerd converts them (KV.put('views', n + 1)).
  if (value === null || (typeof value !== 'object' && typeof value !== 'function' && typeof value !== 'symbol')) return TypedArrayPrototypeGetBuffer(utf8Encode(`${value as string}`)) as ArrayBuffer;
  const bytes = bufferSourceBytes(value, false);
  if (bytes !== null) return TypedArrayPrototypeGetBuffer(copyBytes(bytes)) as ArrayBuffer;
  if (isReadableStream(value)) return await new Response(value).arrayBuffer();
  throw new TypeError('KV put() accepts only strings, ArrayBuffers, ArrayBufferViews, and ReadableStreams as values.');
}

function defineKvNamespace() {
  class KVNamespace {
    readonly #binding: string;

    constructor(token: unknown, binding: string) {
      if (token !== INTERNAL) throw new TypeError('Illegal constructor');
      this.#binding = binding;
    }

    async get(key: unknown, options: unknown = undefined): Promise<unknown> {
      const type = typeOf(options);
      if (ArrayIsArray(key)) return this.#many(key, type, false);
      const [, bytes] = check(hostKv('get', this.#binding, `${key as string}`, null, ''));
      return bytes === null ? null : await valueAs(bytes, type);
    }

    async getWithMetadata(key: unknown, options: unknown = undefined): Promise<unknown> {
      const type = typeOf(options);
      if (ArrayIsArray(key)) return this.#many(key, type, true);
      const [metadata, bytes] = check(hostKv('get', this.#binding, `${key as string}`, null, ''));
      if (bytes === null) return { value: null, metadata: null, cacheStatus: null };
      return { value: await valueAs(bytes, type), metadata: JSONParse(metadata), cacheStatus: null };
    }

    /** A bulk get (Workers' get(keys[])): a Map of each key to its value (or { value, metadata }), null when absent. */
    async #many(keys: unknown[], type: ValueType, withMetadata: boolean): Promise<Map<string, unknown>> {
      if (type !== 'text' && type !== 'json') throw new TypeError(`KV get() of several keys takes the type "text" or "json", not ${type}.`);
      if (keys.length > MAX_BULK_KEYS) throw new TypeError(`KV get() takes at most ${MAX_BULK_KEYS} keys, not ${keys.length}.`);
      const names: string[] = [];
      for (let i = 0; i < keys.length; i++) names[i] = `${keys[i] as string}`;
      // One host call, one operation of the invocation's 1,000, as on Workers.
      const [json, all] = check(hostKv('getMany', this.#binding, JSONStringify(names), null, ''));
      const parts = JSONParse(json) as [metadata: unknown, length: number][];
      const found = new MapCtor<string, unknown>();
      let offset = 0;
      for (let i = 0; i < names.length; i++) {
        const [metadata, length] = parts[i]!;
        let value: unknown = null;
        if (length >= 0) {
          value = await valueAs(ArrayBufferPrototypeSlice(all!, offset, offset + length), type);
          offset += length;
        }
        MapPrototypeSet(found, names[i]!, withMetadata ? { value, metadata: length >= 0 && typeof metadata === 'string' ? JSONParse(metadata) : null } : value);
      }
      return found;
    }

    async put(key: unknown, value: unknown, options: unknown = undefined): Promise<void> {
      const name = `${key as string}`;
      const bytes = await valueBytes(value);
      const opts = (typeof options === 'object' && options !== null ? options : {}) as { expiration?: unknown; expirationTtl?: unknown; metadata?: unknown };
      const wanted: Record<string, unknown> = {};
      if (opts.expiration !== undefined) wanted.expiration = +(opts.expiration as number);
      if (opts.expirationTtl !== undefined) wanted.expirationTtl = +(opts.expirationTtl as number);
      if (opts.metadata !== undefined && opts.metadata !== null) wanted.metadata = opts.metadata;
      check(hostKv('put', this.#binding, name, bytes, JSONStringify(wanted)));
    }

    async delete(key: unknown): Promise<void> {
      check(hostKv('delete', this.#binding, `${key as string}`, null, ''));
    }

    async list(options: unknown = undefined): Promise<unknown> {
      const opts = (typeof options === 'object' && options !== null ? options : {}) as { prefix?: unknown; limit?: unknown; cursor?: unknown };
      const wanted: Record<string, unknown> = {};
      if (opts.prefix !== undefined && opts.prefix !== null) wanted.prefix = `${opts.prefix as string}`;
      if (opts.limit !== undefined) wanted.limit = +(opts.limit as number);
      if (opts.cursor !== undefined && opts.cursor !== null) wanted.cursor = `${opts.cursor as string}`;
      const [json] = check(hostKv('list', this.#binding, '', null, JSONStringify(wanted)));
      return JSONParse(json);
    }
  }
  nameClass(KVNamespace, 'KVNamespace');
  return KVNamespace;
}

// Defined on first use: only workers with a KV binding make one.
let KVNamespaceClass: ReturnType<typeof defineKvNamespace> | null = null;

export function createKvNamespace(binding: string): object {
  return new (KVNamespaceClass ??= defineKvNamespace())(INTERNAL, binding);
}
