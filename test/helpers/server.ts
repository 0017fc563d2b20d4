/**
 * Starts the real server (`src/cli.ts serve`) as a child process on free loopback ports, with its own data
 * directory, and collects its structured log lines so tests can read invocation records.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { request } from 'undici';

const ROOT = join(import.meta.dirname, '..', '..');
export const TOKEN = 'test-admin-token';

export interface LogLine extends Record<string, unknown> {
  type: string;
}

export interface TestServer {
  dataUrl: string;
  adminUrl: string;
  dataDir: string;
  logs: LogLine[];
  child: ChildProcess;
  /** SIGTERM and wait. */
  stop(): Promise<void>;
  /** SIGKILL and wait: a crash. */
  kill(): Promise<void>;
  /** Waits for the invocation record of `requestId` (or the first matching `filter`). */
  record(filter: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
}

export interface StartOptions {
  dataDir?: string;
  /** null: no --admin-token, so the server generates one in the data dir (default: TOKEN). */
  token?: null;
  args?: string[];
  env?: Record<string, string>;
}

interface Tap {
  teardown(fn: () => unknown): void;
}

export async function startServer(t: Tap, options: StartOptions = {}): Promise<TestServer> {
  const ownDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'isolane-test-'));
  const child = spawn(
    process.execPath,
    ['--no-node-snapshot', join(ROOT, 'src', 'cli.ts'), 'serve', '--port', '0', '--admin-port', '0', '--data-dir', dataDir, ...(options.token === null ? [] : ['--admin-token', TOKEN]), ...(options.args ?? [])],
    { cwd: ROOT, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const logs: LogLine[] = [];
  const waiters = new Set<() => void>();
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  createInterface({ input: child.stdout! }).on('line', (line) => {
    try {
      logs.push(JSON.parse(line) as LogLine);
    } catch {
      logs.push({ type: 'text', line });
    }
    for (const wake of waiters) wake();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const waitFor = (filter: (line: LogLine) => boolean, timeoutMs: number) =>
    new Promise<LogLine>((resolve, reject) => {
      const check = () => {
        const found = logs.find(filter);
        if (!found) return false;
        waiters.delete(check);
        clearTimeout(timer);
        resolve(found);
        return true;
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`no matching log line within ${timeoutMs} ms; stderr: ${stderr.slice(-2000)}`));
      }, timeoutMs);
      if (!check()) waiters.add(check);
    });

  const ready = await Promise.race([
    waitFor((l) => l.type === 'ready', 30_000),
    exited.then(() => {
      throw new Error(`server exited before it was ready: ${stderr}`);
    }),
  ]);
  const server: TestServer = {
    dataUrl: ready.dataPlane as string,
    adminUrl: ready.admin as string,
    dataDir,
    logs,
    child,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
    record: (filter, timeoutMs = 10_000) => waitFor(filter, timeoutMs),
  };
  t.teardown(async () => {
    await server.kill();
    if (ownDir) rmSync(dataDir, { recursive: true, force: true });
  });
  return server;
}

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json<T = any>(): T;
}

async function reply(res: Awaited<ReturnType<typeof request>>): Promise<Reply> {
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, text, json: () => JSON.parse(text) };
}

/** A request to the data plane with the given Host header. */
export async function send(server: TestServer, host: string, path = '/', init: { method?: string; headers?: Record<string, string>; body?: string | Uint8Array } = {}): Promise<Reply> {
  return reply(await request(server.dataUrl + path, { method: (init.method ?? 'GET') as 'GET', headers: { host, ...init.headers }, body: init.body }));
}

/** An admin API call with the test token (or `token` given explicitly; null sends none). */
export async function admin(server: TestServer, method: string, path: string, init: { body?: string | Uint8Array | FormData; headers?: Record<string, string>; token?: string | null } = {}): Promise<Reply> {
  const token = init.token === undefined ? TOKEN : init.token;
  const headers: Record<string, string> = { ...(token === null ? {} : { authorization: `Bearer ${token}` }), ...init.headers };
  if (init.body instanceof FormData) {
    const res = await fetch(server.adminUrl + path, { method, headers, body: init.body });
    const text = await res.text();
    return { status: res.status, headers: Object.fromEntries(res.headers), text, json: () => JSON.parse(text) };
  }
  return reply(await request(server.adminUrl + path, { method: method as 'GET', headers, body: init.body }));
}

/** Deploys one ES module as the whole body. */
export function deployScript(server: TestServer, name: string, source: string): Promise<Reply> {
  return admin(server, 'PUT', `/v1/workers/${name}`, { body: source, headers: { 'content-type': 'application/javascript+module' } });
}

/** Deploys Cloudflare's multipart shape: metadata plus modules. */
export function deployMultipart(server: TestServer, name: string, metadata: Record<string, unknown>, modules: Record<string, string | { content: string; type: string }>): Promise<Reply> {
  const form = new FormData();
  form.append('metadata', JSON.stringify(metadata));
  for (const [moduleName, module] of Object.entries(modules)) {
    const { content, type } = typeof module === 'string' ? { content: module, type: 'application/javascript+module' } : module;
    form.append(moduleName, new Blob([content], { type }), moduleName);
  }
  return admin(server, 'PUT', `/v1/workers/${name}`, { body: form });
}
