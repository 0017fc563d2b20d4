/**
 * Starts the real server (`src/cli.ts serve`) as a child process on free loopback ports, with its own
 * temporary data directory and admin token, deploys workers over the admin API, and collects its
 * structured log lines (invocation records among them) from its stdout.
 *
 *   const server = await startIsolane();
 *   await server.deployModule('hello', `export default { fetch() { return new Response('hi') } }`);
 *   // requests go to server.dataUrl with `host: hello.localhost`
 *   await server.stop();
 *
 * Every server started here is SIGKILLed if the harness process exits without stopping it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export const ROOT = join(import.meta.dirname, '..', '..');

export interface StartIsolaneOptions {
  /** Extra `serve` flags, e.g. `['--executors', '1']`. */
  args?: string[];
  /** Extra Node.js flags for the primary; its serving processes inherit them (e.g. `--cpu-prof`). */
  nodeArgs?: string[];
  /** Extra environment variables for the server. */
  env?: Record<string, string>;
  /**
   * Parse and keep log lines (default true). A throughput run at 10k+ requests/s makes as many JSON
   * lines; parsing them in the load generator costs it CPU, so such runs start with `collect: false`
   * (stdout is still read and discarded, as a log collector would). Can be switched later through
   * `server.collect`.
   */
  collect?: boolean;
  /** How long to wait for the `ready` line (default 30 s). */
  readyTimeoutMs?: number;
}

export interface IsolaneServer {
  dataUrl: string;
  adminUrl: string;
  token: string;
  pid: number;
  dataDir: string;
  /** Invocation records (`"type":"invocation"` lines) by worker name, in arrival order. */
  records: Map<string, Record<string, unknown>[]>;
  /** Every JSON log line, in arrival order. */
  lines: Record<string, unknown>[];
  /** Whether log lines are parsed and kept now (see `StartIsolaneOptions.collect`). */
  collect: boolean;
  /** Deploys one ES module; with `metadata` (e.g. `{ limits: { cpu_ms: 50 } }`) as Cloudflare's multipart. */
  deployModule(name: string, source: string, metadata?: Record<string, unknown>): Promise<void>;
  /** Deploys Cloudflare's multipart shape as given: metadata (with `main_module`) and the named parts. */
  deployMultipart(name: string, metadata: Record<string, unknown>, modules: Record<string, string | { content: string | Uint8Array; type: string }>): Promise<void>;
  /** An admin API call with the token; throws on a non-2xx answer. */
  admin(method: string, path: string, body?: string | FormData, headers?: Record<string, string>): Promise<unknown>;
  /** Invocations of `worker` by outcome so far (from the admin API's /metrics): cheap, no log parsing. */
  outcomes(worker: string): Promise<Record<string, number>>;
  /** Resolves with the first log line (already received or still to come) that matches. */
  waitForLine(filter: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** The last few KiB the server wrote to stderr. */
  stderr(): string;
  /** SIGTERM, wait (SIGKILL after 15 s), remove the data directory. Safe to call twice. */
  stop(): Promise<void>;
  /** SIGKILL, wait, remove the data directory. */
  kill(): Promise<void>;
  child: ChildProcess;
}

const running = new Set<ChildProcess>();
let exitHookInstalled = false;
function trackChild(child: ChildProcess): void {
  running.add(child);
  child.once('exit', () => running.delete(child));
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const c of running) c.kill('SIGKILL');
  });
}

/** Kills child processes started by the bench libraries if the harness ends abruptly. */
export function killOnExit(child: ChildProcess): void {
  trackChild(child);
}

export async function startIsolane(options: StartIsolaneOptions = {}): Promise<IsolaneServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'isolane-bench-'));
  const token = `bench-${process.pid}-${Date.now().toString(36)}`;
  const child = spawn(
    process.execPath,
    ['--no-node-snapshot', '--max-semi-space-size=8', ...(options.nodeArgs ?? []), join(ROOT, 'src', 'cli.ts'), 'serve', '--host', '127.0.0.1', '--port', '0', '--admin-port', '0', '--data-dir', dataDir, '--admin-token', token, ...(options.args ?? [])],
    { cwd: ROOT, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  trackChild(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let stderrTail = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderrTail = (stderrTail + chunk.toString()).slice(-8192);
  });

  const lines: Record<string, unknown>[] = [];
  const records = new Map<string, Record<string, unknown>[]>();
  const waiters = new Set<(line: Record<string, unknown>) => void>();
  let ready: Record<string, unknown> | undefined;
  const state = { collect: options.collect ?? true };

  createInterface({ input: child.stdout!, crlfDelay: Infinity }).on('line', (text) => {
    if (!state.collect && ready) return;
    let line: Record<string, unknown>;
    try {
      line = JSON.parse(text) as Record<string, unknown>;
    } catch {
      line = { type: 'text', line: text };
    }
    lines.push(line);
    if (line.type === 'invocation' && typeof line.worker === 'string') {
      let list = records.get(line.worker);
      if (!list) records.set(line.worker, (list = []));
      list.push(line);
    }
    for (const wake of waiters) wake(line);
  });

  const waitForLine = (filter: (line: Record<string, unknown>) => boolean, timeoutMs = 10_000) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const found = lines.find(filter);
      if (found) return resolve(found);
      const check = (line: Record<string, unknown>) => {
        if (!filter(line)) return;
        cleanup();
        resolve(line);
      };
      const onExit = () => {
        cleanup();
        reject(new Error(`server exited (code ${child.exitCode}, signal ${child.signalCode}); stderr: ${stderrTail.slice(-2000)}`));
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`no matching log line within ${timeoutMs} ms; stderr: ${stderrTail.slice(-2000)}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        waiters.delete(check);
        child.off('exit', onExit);
      };
      waiters.add(check);
      child.once('exit', onExit);
    });

  try {
    ready = await waitForLine((l) => l.type === 'ready', options.readyTimeoutMs ?? 30_000);
  } catch (err) {
    child.kill('SIGKILL');
    await exited;
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  const dataUrl = String(ready.dataPlane);
  const adminUrl = String(ready.admin);

  let stopping: Promise<void> | undefined;
  const finish = async (signal: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
    rmSync(dataDir, { recursive: true, force: true });
  };

  const admin = async (method: string, path: string, body?: string | FormData, headers: Record<string, string> = {}): Promise<unknown> => {
    const res = await fetch(adminUrl + path, { method, headers: { authorization: `Bearer ${token}`, ...headers }, body });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  };

  const deployMultipart: IsolaneServer['deployMultipart'] = async (name, metadata, modules) => {
    const form = new FormData();
    form.append('metadata', JSON.stringify(metadata));
    for (const [moduleName, module] of Object.entries(modules)) {
      const { content, type } = typeof module === 'string' ? { content: module, type: 'application/javascript+module' } : module;
      form.append(moduleName, new Blob([content], { type }), moduleName);
    }
    await admin('PUT', `/v1/workers/${encodeURIComponent(name)}`, form);
  };

  return {
    dataUrl,
    adminUrl,
    token,
    pid: child.pid!,
    dataDir,
    records,
    lines,
    get collect() {
      return state.collect;
    },
    set collect(value: boolean) {
      state.collect = value;
    },
    async deployModule(name, source, metadata) {
      if (metadata === undefined) {
        await admin('PUT', `/v1/workers/${encodeURIComponent(name)}`, source, { 'content-type': 'application/javascript+module' });
        return;
      }
      await deployMultipart(name, { main_module: 'worker.js', ...metadata }, { 'worker.js': source });
    },
    deployMultipart,
    admin,
    async outcomes(worker) {
      const text = String(await admin('GET', '/metrics'));
      const counts: Record<string, number> = {};
      const prefix = `isolane_invocations_total{worker=${JSON.stringify(worker)},outcome="`;
      for (const line of text.split('\n')) {
        if (!line.startsWith(prefix)) continue;
        const [outcome, value] = line.slice(prefix.length).split('"} ');
        if (outcome && Number(value)) counts[outcome] = Number(value);
      }
      return counts;
    },
    waitForLine,
    stderr: () => stderrTail,
    stop() {
      return (stopping ??= finish('SIGTERM'));
    },
    kill() {
      return (stopping ??= finish('SIGKILL'));
    },
    child,
  };
}
