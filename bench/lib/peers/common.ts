/** What every compared system looks like to a scenario, and the helpers to start one as a child. */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { request } from 'undici';
import { killOnExit } from '../isolane-server.ts';

export interface Peer {
  /** As shown in tables, e.g. "workerd". */
  name: string;
  /** Origin to send load to (loopback). */
  url: string;
  /** Host header to send. */
  host: string;
  /** Process whose tree's CPU is the server's. */
  pid: number;
  /** Version string for the report. */
  version: string;
  /** How it runs (threads, processes), for the notes. */
  describe: string;
  stop(): Promise<void>;
}

/** A peer that could not be started (not installed, install failed): the scenario notes it and goes on. */
export class PeerUnavailable extends Error {}

export { freePort } from '../../../src/serving/free-port.ts';

export interface Child {
  child: ChildProcess;
  exited: Promise<void>;
  output(): string;
  stop(): Promise<void>;
}

/** Spawns a server process, keeps the tail of its output, kills it if the harness exits. */
export function spawnChild(command: string, args: string[], options: SpawnOptions = {}): Child {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
  killOnExit(child);
  let tail = '';
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString()).slice(-8192);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let stopping: Promise<void> | undefined;
  return {
    child,
    exited,
    output: () => tail,
    stop() {
      return (stopping ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      })());
    },
  };
}

/** Polls `url` until it answers `expect` (default 200), the child exits, or the time runs out. */
export async function waitForHttp(c: Child, url: string, host: string, path = '/', timeoutMs = 30_000, expect = 200): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    if (c.child.exitCode !== null || c.child.signalCode !== null) throw new PeerUnavailable(`exited before it answered: ${c.output().slice(-1500)}`);
    try {
      const res = await request(url + path, { headers: { host }, headersTimeout: 2000, bodyTimeout: 2000 });
      const body = await res.body.text();
      if (res.statusCode === expect) return;
      last = `status ${res.statusCode}: ${body.slice(0, 200)}`;
    } catch (err) {
      last = String(err);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  await c.stop();
  throw new PeerUnavailable(`no answer within ${timeoutMs} ms (${last}); output: ${c.output().slice(-1500)}`);
}
