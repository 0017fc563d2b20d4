/**
 * Runs the real runtime bundle in a real isolate with a fake host: every host call is recorded,
 * timers fire only when the test says so. One TestWorker per test file (or per test).
 */
import ivm from '../../src/isolates/isolated-vm.ts';
import { buildRuntimeBundle } from '../../src/isolates/runtime-bundle.ts';
import { hostCrypto } from '../../src/isolates/host-crypto.ts';
import { DigestStreams } from '../../src/isolates/digest-streams.ts';
import { decodeText, decodeUtf8, encodingName } from '../../src/isolates/host-text.ts';
import { runChunk } from '../../src/isolates/runtime-chunks.ts';
import { BUILTIN_EXPORTS } from '../../src/isolates/builtin-modules.ts';
import { isolateNatives } from '../../src/limits/watchdog.ts';

export type HostCallRecord = [op: string, ...args: unknown[]];

export interface Answer {
  id: number;
  /** From host('respond'); undefined if the invocation errored or never answered. */
  status?: number;
  headers?: string[];
  /** The bridge body: string, ArrayBuffer or null. */
  rawBody?: string | ArrayBuffer | null;
  /** rawBody as text. */
  body?: string;
  /** host('respondStream'): the body came in chunks; `ended` once host('endBody') came. */
  streamed?: boolean;
  ended?: boolean;
  /** From host('error'). */
  error?: { message: string; stack: string };
  done: boolean;
}

export interface RequestInit {
  method?: string;
  headers?: Record<string, string> | string[];
  body?: string | null;
}

export class TestWorker {
  readonly isolate: ivm.Isolate;
  readonly context: ivm.Context;
  /** Every host call, in order. */
  readonly calls: HostCallRecord[];
  /** Armed host timers: id → delay. */
  readonly timers: Map<number, number>;
  #dispatch: ivm.Reference<(...args: unknown[]) => unknown>;
  #nextId = 1;

  private constructor(
    isolate: ivm.Isolate,
    context: ivm.Context,
    dispatch: ivm.Reference<(...args: unknown[]) => unknown>,
    calls: HostCallRecord[],
    timers: Map<number, number>,
    room: { accepting: boolean },
  ) {
    this.isolate = isolate;
    this.context = context;
    this.#dispatch = dispatch;
    this.calls = calls;
    this.timers = timers;
    this.#room = room;
  }

  readonly #room: { accepting: boolean };

  /** Whether host('chunk') answers that the client has room for more (true by default). */
  set acceptingChunks(value: boolean) {
    this.#room.accepting = value;
  }

  /** A fresh isolate with the runtime loaded and booted; no worker installed yet. */
  /**
   * `natives`: load the watchdog addon's helpers into the isolate and boot the runtime with them, as the
   * server does (this also forbids Atomics.wait there and makes a fatal OOM end the test process).
   */
  static async create(memoryLimitMb = 64, options: { natives?: boolean } = {}): Promise<TestWorker> {
    const { script: code, chunks } = await buildRuntimeBundle();
    const isolate = new ivm.Isolate({ memoryLimit: memoryLimitMb });
    const context = isolate.createContextSync();
    const natives = options.natives ? isolateNatives(context) : null;
    isolate.compileScriptSync(code, { filename: 'isolane:runtime' }).runSync(context);
    const boot = context.global.getSync('__isolaneBoot', { reference: true }) as ivm.Reference<
      (host: unknown, natives?: unknown) => unknown
    >;
    const calls: HostCallRecord[] = [];
    const timers = new Map<number, number>();
    const room = { accepting: true };
    const digestStreams = new DigestStreams();
    const host = new ivm.Callback((op: string, ...args: unknown[]) => {
      // 'respond' with done (its last argument) stands for 'respond' then 'done': recorded as both, the
      // 'done' marked as carried by the same call.
      if (op === 'respond' && args[4] === true) calls.push(['respond', ...args.slice(0, 4)], ['done', args[0], 'with respond']);
      else calls.push([op, ...args]);
      if (op === 'setTimer') timers.set(args[0] as number, args[1] as number);
      if (op === 'clearTimer') timers.delete(args[0] as number);
      // Crypto is answered by the real host code: these tests check the runtime and the host together.
      if (op === 'randomBytes' || op === 'digest' || op === 'subtle') return hostCrypto(op, args);
      if (op === 'digestStream') return digestStreams.call(args);
      if (op === 'decodeUtf8') return decodeUtf8(args[0], args[1]);
      if (op === 'encodingName') return encodingName(args[0]);
      if (op === 'decodeText') return decodeText(args[0], args[1], args[2], args[3]);
      // A streamed response chunk: the fake client always has room unless a test says otherwise.
      if (op === 'chunk') return room.accepting;
      // As the server does: the host runs the chunk here and hands its exports to dispatch('chunk').
      if (op === 'runtimeChunk') runChunk(isolate, context, dispatch, args[0] as string, chunks[args[0] as string]);
    });
    const dispatch: ivm.Reference<(...args: unknown[]) => unknown> = boot.applySync(undefined, natives ? [host, natives.derefInto()] : [host], { result: { reference: true } }) as ivm.Reference<
      (...args: unknown[]) => unknown
    >;
    boot.release();
    natives?.release();
    return new TestWorker(isolate, context, dispatch, calls, timers, room);
  }

  /** Module syntax: `source` is the main module. Returns the syntax dispatch reports. */
  deployModule(source: string, env: Record<string, unknown> = {}): string {
    this.#dispatch.applySync(undefined, ['bindings', JSON.stringify(env), '', false], { timeout: 1000 });
    const module = this.isolate.compileModuleSync(source, { filename: 'file:///main.js' });
    module.instantiateSync(this.context, (specifier) => {
      throw new Error(`no module ${specifier}`);
    });
    module.evaluateSync({ timeout: 1000 });
    return this.#dispatch.applySync(undefined, ['install', module.namespace.derefInto()], { timeout: 1000 }) as string;
  }

  /** Service-worker syntax: `source` runs as a classic script, then dispatch installs it. */
  deployScript(source: string, env: Record<string, unknown> = {}): string {
    this.#dispatch.applySync(undefined, ['bindings', JSON.stringify(env), '', true], { timeout: 1000 });
    this.isolate.compileScriptSync(source, { filename: 'worker.js' }).runSync(this.context, { timeout: 1000 });
    return this.#dispatch.applySync(undefined, ['install', undefined], { timeout: 1000 }) as string;
  }

  /** isolated-vm's timeout for each dispatch: wall time, so heavy cases in a busy test run need more. */
  sliceTimeoutMs = 1000;

  /** Call dispatch(op, ...args) as the host does: copied arguments, a timeout. */
  dispatch(op: string, ...args: unknown[]): unknown {
    return this.#dispatch.applySync(undefined, [op, ...args], { arguments: { copy: true }, timeout: this.sliceTimeoutMs });
  }

  /** Start an invocation; returns its id. Nothing runs beyond the microtasks of this call. */
  send(url: string, init: RequestInit = {}): number {
    const id = this.#nextId++;
    let headers: string[] = [];
    if (Array.isArray(init.headers)) headers = init.headers;
    else if (init.headers) for (const [k, v] of Object.entries(init.headers)) headers.push(k.toLowerCase(), v);
    const body = init.body == null ? null : new TextEncoder().encode(init.body).buffer;
    this.dispatch('request', id, init.method ?? 'GET', url, headers.join('\n'), body);
    return id;
  }

  /** Fire the armed timer with the smallest delay (ties: lowest id). Returns false if none. */
  fireNextTimer(): boolean {
    let best: [number, number] | null = null;
    for (const [id, delay] of this.timers) {
      if (best === null || delay < best[1] || (delay === best[1] && id < best[0])) best = [id, delay];
    }
    if (best === null) return false;
    this.timers.delete(best[0]);
    this.dispatch('timer', best[0]);
    return true;
  }

  /** What the runtime sent for invocation `id` so far. */
  answerOf(id: number): Answer {
    const answer: Answer = { id, done: false };
    for (const [op, ...args] of this.calls) {
      if (args[0] !== id) continue;
      if (op === 'respond') {
        answer.status = args[1] as number;
        answer.headers = args[2] === '' ? [] : (args[2] as string).split('\n');
        const raw = args[3] as string | ArrayBuffer | null;
        answer.rawBody = raw;
        answer.body = raw === null ? '' : typeof raw === 'string' ? raw : new TextDecoder().decode(raw);
      } else if (op === 'respondStream') {
        answer.status = args[1] as number;
        answer.headers = args[2] === '' ? [] : (args[2] as string).split('\n');
        answer.streamed = true;
        answer.ended = false;
        answer.rawBody = new ArrayBuffer(0);
        answer.body = '';
      } else if (op === 'chunk') {
        const joined = new Uint8Array((answer.rawBody as ArrayBuffer).byteLength + (args[1] as ArrayBuffer).byteLength);
        joined.set(new Uint8Array(answer.rawBody as ArrayBuffer));
        joined.set(new Uint8Array(args[1] as ArrayBuffer), (answer.rawBody as ArrayBuffer).byteLength);
        answer.rawBody = joined.buffer;
        answer.body = new TextDecoder().decode(joined);
      } else if (op === 'endBody') {
        answer.ended = true;
      } else if (op === 'error') {
        answer.error = { message: args[1] as string, stack: args[2] as string };
      } else if (op === 'done') {
        answer.done = true;
      }
    }
    return answer;
  }

  /** Host calls of kind `op` for invocation `id`. */
  callsFor(id: number, op?: string): HostCallRecord[] {
    return this.calls.filter((c) => c[1] === id && c[0] !== 'log' && c[0] !== 'setTimer' && c[0] !== 'clearTimer' && (op === undefined || c[0] === op));
  }

  /** send(), then fire timers (up to `maxTimers`) until the invocation is done. */
  fetch(url: string, init: RequestInit = {}, maxTimers = 100): Answer {
    const id = this.send(url, init);
    for (let i = 0; i < maxTimers && !this.answerOf(id).done; i++) {
      if (!this.fireNextTimer()) break;
    }
    return this.answerOf(id);
  }

  /** dispatch('scheduled'), then fire timers (up to `maxTimers`) until the invocation is done. */
  scheduled(scheduledTime: number, cron: string, maxTimers = 100): Answer {
    const id = this.#nextId++;
    this.dispatch('scheduled', id, scheduledTime, cron);
    for (let i = 0; i < maxTimers && !this.answerOf(id).done; i++) {
      if (!this.fireNextTimer()) break;
    }
    return this.answerOf(id);
  }

  /** Log lines sent with host('log'), as [level, message]. */
  logs(): [string, string][] {
    return this.calls.filter((c) => c[0] === 'log').map((c) => [c[1] as string, c[2] as string]);
  }

  /** Evaluate a classic script in the worker's context and copy its result out. */
  eval(code: string): unknown {
    return this.isolate.compileScriptSync(code).runSync(this.context, { copy: true, timeout: 1000 });
  }

  dispose(): void {
    if (!this.isolate.isDisposed) this.isolate.dispose();
  }
}

/**
 * A worker whose fetch handler evaluates the request body as the body of an async function and
 * answers with its JSON-serialised result (or the error). Lets one isolate run many small checks:
 * `await w.run('return new Headers({a: 1}).get("a")')`.
 */
export class Evaluator {
  readonly worker: TestWorker;

  private constructor(worker: TestWorker) {
    this.worker = worker;
  }

  static async create(options: { natives?: boolean } = {}): Promise<Evaluator> {
    const worker = await TestWorker.create(64, options);
    // As the host does for a worker whose imports it linked to every Node.js module.
    worker.dispatch('builtinLinks', JSON.stringify(Object.keys(BUILTIN_EXPORTS).filter((name) => name.startsWith('node:'))));
    worker.deployModule(`
      const AsyncFunction = (async () => {}).constructor;
      // What the links of modules imported by name read (runtime/builtin-modules.ts): gone after install.
      const builtinModule = globalThis.__isolaneBuiltinModule;
      export default {
        async fetch(request, env, ctx) {
          const code = await request.text();
          try {
            const value = await new AsyncFunction('request', 'env', 'ctx', 'builtinModule', code)(request, env, ctx, builtinModule);
            return new Response(JSON.stringify({ ok: true, value: value === undefined ? null : value }));
          } catch (error) {
            return new Response(JSON.stringify({ ok: false, name: error?.name, message: error?.message, isError: error instanceof Error }));
          }
        },
      };
    `);
    return new Evaluator(worker);
  }

  /** The value the code returned (JSON round-tripped); throws an Error named like the one thrown inside. */
  run(code: string): unknown {
    const answer = this.worker.fetch('https://eval.test/', { method: 'POST', body: code });
    if (answer.error) throw new Error(`invocation failed: ${answer.error.stack}`);
    const result = JSON.parse(answer.body!) as { ok: boolean; value?: unknown; name?: string; message?: string };
    if (result.ok) return result.value;
    const error = new Error(result.message);
    error.name = result.name ?? 'Error';
    throw error;
  }

  dispose(): void {
    this.worker.dispose();
  }
}
