/**
 * Node.js modules a worker can import but not use (node:fs, node:net, node:http, ...), made from the
 * host's data (src/isolates/node-stub-modules.ts), as Workers do: importing one is not an error, and
 * calling one of its functions throws Node's ERR_METHOD_NOT_IMPLEMENTED, naming it (a promise API's
 * rejects). Built as the `node-stubs` chunk with that data in it; it runs with the worker's own globals,
 * like an npm library.
 */

type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** One module's data (src/isolates/node-stub-modules.ts holds them all; the host links by its names). */
export interface StubModule {
  /** Exports that throw ERR_METHOD_NOT_IMPLEMENTED when called (or constructed). */
  functions?: string[];
  /** Exports that are plain data, as Node has them. */
  values?: Record<string, JsonValue>;
  /** Exports that are other built-in modules' default exports (fs.promises is node:fs/promises). */
  modules?: Record<string, string>;
  /** Functions that answer a fixed value (os.platform(): 'linux'). */
  returns?: Record<string, JsonValue>;
  /** Exports the runtime has for real (perf_hooks' performance). */
  runtime?: string[];
  /** Its functions are promise APIs: they reject rather than throw. */
  async?: boolean;
}

export interface StubsPlatform {
  /** Another built-in module's default export (fs.promises is node:fs/promises). */
  builtin(name: string): unknown;
  /** The runtime's own values for the exports a stub module has for real (perf_hooks' performance). */
  runtime: Record<string, unknown>;
}

/** A fresh copy of data: a worker that changes fs.constants changes only its own. */
const copy = (value: JsonValue): JsonValue => JSON.parse(JSON.stringify(value)) as JsonValue;

export function makeStubModule(name: string, spec: StubModule, platform: StubsPlatform): Record<string, unknown> {
  const moduleName = name.slice('node:'.length);
  const exports: Record<string, unknown> = {};
  for (const fn of spec.functions ?? []) {
    const notImplemented = () => Object.assign(new Error(`The ${moduleName}.${fn} method is not implemented`), { code: 'ERR_METHOD_NOT_IMPLEMENTED' });
    // A function (not an arrow) so that `new` and `class extends` reach it too.
    const stub = spec.async
      ? function (): Promise<never> {
          return Promise.reject(notImplemented());
        }
      : function (): never {
          throw notImplemented();
        };
    Object.defineProperty(stub, 'name', { value: fn });
    exports[fn] = stub;
  }
  for (const [key, value] of Object.entries(spec.values ?? {})) exports[key] = copy(value);
  for (const [key, value] of Object.entries(spec.returns ?? {})) {
    const answer = { [key]: () => copy(value) }[key]!;
    exports[key] = answer;
  }
  for (const key of spec.runtime ?? []) exports[key] = platform.runtime[key];
  for (const [key, other] of Object.entries(spec.modules ?? {})) exports[key] = platform.builtin(other);
  return exports;
}
