/**
 * The id of a KV namespace or a D1 database: it names the file that holds it under the data directory
 * (`kv/<id>.sqlite`, `d1/<id>.sqlite`), so it has no path characters.
 */
export const STORAGE_ID = /^[A-Za-z0-9_-]{1,64}$/;
