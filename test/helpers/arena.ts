/**
 * The arena of the adversarial suites (test/adversarial/): a real server with two well-behaved workers
 * on their own hosts under a small, steady load (a few keep-alive connections, each sending one request
 * at a time) for as long as the hostile cases run. Every good request is checked (status and body) and
 * charged to the hostile case that was running when it started, so a case that makes a good tenant
 * fail is named, and the suite can assert zero failures per case and in total.
 */
import { connect } from 'node:net';
import type { Test } from 'tap';
import { Pool } from 'undici';
import { admin, deployMultipart, send, type LogLine, type Reply, type TestServer, startServer, type StartOptions } from './server.ts';

interface Tap {
  teardown(fn: () => unknown): void;
}

export interface GoodFailure {
  /** The hostile case running when the request started ('' before the first). */
  during: string;
  host: string;
  error: string;
  /** ms since the arena started, when the request started. */
  at: number;
  /** The invocation record of a failed answer that named its request id. */
  record?: LogLine;
  /** Settles once the record is looked up (or not found). */
  looked?: Promise<unknown>;
}

export interface CaseResult {
  title: string;
  /** HTTP status, or the client error when there was no answer. */
  status: number | string;
  outcome: string | null;
  ms: number;
  note: string;
}

export interface ArenaOptions extends StartOptions {
  /** Keep-alive connections of the good load (default 4). */
  connections?: number;
  /** Pause of each connection between two requests, ms (default 1). */
  pauseMs?: number;
}

const GOOD = [
  { name: 'good-a', source: `export default { fetch(request) { return new Response('good-a ' + new URL(request.url).pathname) } }` },
  {
    name: 'good-b',
    source: `export default { async fetch(request) { await null; return Response.json({ worker: 'good-b', path: new URL(request.url).pathname }) } }`,
  },
];

export class Arena {
  readonly server: TestServer;
  readonly results: CaseResult[] = [];
  readonly failures: GoodFailure[] = [];
  served = 0;
  #maxLatencyMs = 0;
  #latencies: number[] = [];
  /** The case during which the slowest good request started. */
  #slowestDuring = '';
  /** The slowest good request that started during each case, in ms. */
  readonly #slowestOf = new Map<string, number>();
  #current = '';
  readonly #started = performance.now();
  /** When each case began, ms since the arena started. */
  readonly began: { title: string; at: number }[] = [];
  #stopped = false;
  #loops: Promise<void>[] = [];
  #pool: Pool;
  #stderr = '';

  private constructor(server: TestServer, connections: number) {
    this.server = server;
    this.#pool = new Pool(server.dataUrl, { connections, pipelining: 1 });
    server.child.stderr!.on('data', (chunk: Buffer) => {
      this.#stderr += chunk.toString();
    });
  }

  /** Starts the server, deploys the good workers and starts their load. */
  static async start(t: Tap, options: ArenaOptions = {}): Promise<Arena> {
    const server = await startServer(t, options);
    const arena = new Arena(server, options.connections ?? 4);
    for (const good of GOOD) {
      const res = await deployMultipart(server, good.name, { main_module: 'main.js' }, { 'main.js': good.source });
      if (res.status !== 201) throw new Error(`deploy of ${good.name}: ${res.status} ${res.text}`);
    }
    for (let i = 0; i < (options.connections ?? 4); i++) arena.#loops.push(arena.#loop(i, options.pauseMs ?? 1));
    t.teardown(async () => {
      await arena.stopLoad();
    });
    return arena;
  }

  /** What the server wrote on stderr so far (the platform's own warnings). */
  get stderr(): string {
    return this.#stderr;
  }

  async #loop(index: number, pauseMs: number): Promise<void> {
    let n = index;
    while (!this.#stopped) {
      const good = GOOD[n++ % GOOD.length]!;
      const path = `/p${n}`;
      const during = this.#current;
      const started = performance.now();
      const at = Math.round(started - this.#started);
      try {
        const res = await this.#pool.request({ path, method: 'GET', headers: { host: `${good.name}.localhost` } });
        const text = await res.body.text();
        const expected = good.name === 'good-a' ? `good-a ${path}` : JSON.stringify({ worker: 'good-b', path });
        if (res.statusCode !== 200 || text !== expected) {
          const failure: GoodFailure = { during, at, host: good.name, error: `${res.statusCode} ${text.slice(0, 200)}` };
          this.failures.push(failure);
          const requestId = /"requestId":"([^"]+)"/.exec(text)?.[1];
          if (requestId) {
            failure.looked = this.server
              .record((l) => l.type === 'invocation' && l.requestId === requestId, 5_000)
              .then((record) => (failure.record = record))
              .catch(() => {});
          }
        } else {
          this.served++;
        }
      } catch (error) {
        if (this.#stopped) return;
        this.failures.push({ during, at, host: good.name, error: String((error as Error).message ?? error) });
      }
      const latency = performance.now() - started;
      this.#latencies.push(latency);
      if (latency > (this.#slowestOf.get(during) ?? 0)) this.#slowestOf.set(during, latency);
      if (latency > this.#maxLatencyMs) {
        this.#maxLatencyMs = latency;
        this.#slowestDuring = during;
      }
      if (pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
  }

  /** Names the hostile case that runs from now on (good requests that start now are charged to it). */
  begin(title: string): void {
    this.#current = title;
    this.began.push({ title, at: Math.round(performance.now() - this.#started) });
  }

  /** The slowest good request, in ms, that started during case `title` (0 if none did). */
  slowestDuring(title: string): number {
    return this.#slowestOf.get(title) ?? 0;
  }

  failuresDuring(title: string): GoodFailure[] {
    return this.failures.filter((f) => f.during === title || f.during === `(after ${title})`);
  }

  /** Serving processes that died so far. */
  exits(): LogLine[] {
    return this.server.logs.filter((l) => l.type === 'serving-exit');
  }

  /** Deploys one module worker with the given metadata (limits, bindings, fetch_allow ...). */
  deploy(name: string, source: string, metadata: Record<string, unknown> = {}): Promise<Reply> {
    return deployMultipart(this.server, name, { main_module: 'main.js', ...metadata }, { 'main.js': source });
  }

  /** One request to `<name>.localhost`; a client error (reset, no answer) comes back as `error`. */
  async hit(name: string, path = '/', init: Parameters<typeof send>[3] = {}): Promise<{ reply: Reply | null; error: string | null; ms: number }> {
    const started = performance.now();
    try {
      const reply = await send(this.server, `${name}.localhost`, path, init);
      return { reply, error: null, ms: performance.now() - started };
    } catch (error) {
      return { reply: null, error: `${(error as { code?: string }).code ?? ''} ${(error as Error).message}`.trim(), ms: performance.now() - started };
    }
  }

  /**
   * A GET over a raw socket (`Connection: close`), for answers an HTTP client refuses (huge heads):
   * `headers` holds only `x-head-bytes` (size of the status line and headers) and `x-header-count`.
   */
  rawGet(name: string, path = '/'): Promise<{ reply: Reply | null; error: string | null; ms: number }> {
    const { hostname, port } = new URL(this.server.dataUrl);
    const started = performance.now();
    return new Promise((resolve) => {
      const socket = connect(Number(port), hostname, () => socket.write(`GET ${path} HTTP/1.1\r\nhost: ${name}.localhost\r\nconnection: close\r\n\r\n`));
      const chunks: Buffer[] = [];
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      socket.on('error', () => {});
      socket.on('close', () => {
        const raw = Buffer.concat(chunks);
        const end = raw.indexOf('\r\n\r\n');
        const ms = performance.now() - started;
        if (end < 0) return resolve({ reply: null, error: `no complete response head (${raw.length} bytes)`, ms });
        const head = raw.subarray(0, end).toString('latin1');
        const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]);
        const text = raw.subarray(end + 4).toString();
        const headers = { 'x-head-bytes': String(end + 4), 'x-header-count': String(head.split('\r\n').length - 1) };
        resolve({ reply: { status, headers, text, json: () => JSON.parse(text) }, error: null, ms });
      });
    });
  }

  /** The first invocation record of worker `name` (each hostile case has a worker of its own). */
  record(name: string, timeoutMs = 15_000): Promise<LogLine | null> {
    return this.server.record((l) => l.type === 'invocation' && l.worker === name, timeoutMs).catch(() => null);
  }

  /** Waits until every serving process is back and serves what is live (after a crash). */
  async waitReady(timeoutMs = 40_000): Promise<boolean> {
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      const res = await admin(this.server, 'GET', '/readyz', { token: null }).catch(() => null);
      if (res?.status === 200) return true;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return false;
  }

  /** Lets the good requests that started during the current case finish. */
  async settle(ms = 150): Promise<void> {
    this.#current = `(after ${this.#current})`;
    await new Promise((resolve) => setTimeout(resolve, ms));
  }

  note(result: CaseResult): void {
    this.results.push(result);
  }

  async stopLoad(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    await Promise.all(this.#loops);
    await this.#pool.close().catch(() => {});
  }

  /** Stops the load and sums it up. */
  async summary(): Promise<{ served: number; failed: number; p50: number; p99: number; max: number; slowestDuring: string }> {
    await this.stopLoad();
    const sorted = [...this.#latencies].sort((a, b) => a - b);
    const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
    return { served: this.served, failed: this.failures.length, p50: at(0.5), p99: at(0.99), max: this.#maxLatencyMs, slowestDuring: this.#slowestDuring };
  }
}

export interface HostileCase {
  title: string;
  /** Worker name (unique per case). */
  name: string;
  source: string;
  metadata?: Record<string, unknown>;
  path?: string;
  /** Expected answer; `status` may list several acceptable ones. */
  status: number | number[];
  outcome: string | string[];
  code?: string;
  /** Extra checks on the reply and record. */
  check?(t: Tapish, reply: Reply, record: LogLine | null): void | Promise<void>;
  /** How to send the request (default: `arena.hit(name, path)`). */
  request?(arena: Arena): Promise<{ reply: Reply | null; error: string | null; ms: number }>;
  /** The response may be cut short after its status went out: a client error matching this is the answer. */
  clientError?: RegExp;
  /** A known bug: the case's assertions about it are marked todo with this text. */
  bug?: string;
}

/** tap's Test, as the cases get it. */
export type Tapish = Test;

/** Asserts that no good request failed during case `title` (strictly, or todo when the case is a known bug). */
export async function assertNoGoodFailures(t: Tapish, arena: Arena, title: string, todo: { todo?: string } = {}): Promise<GoodFailure[]> {
  const during = arena.failuresDuring(title);
  await Promise.all(during.map((f) => f.looked));
  t.equal(during.length, 0, `good requests failed during the case: ${during.length}${during.length ? ` (${during[0]!.error})` : ''}`, todo);
  return during;
}

/**
 * Runs one hostile case against the arena: deploy through the admin API, one request, its invocation
 * record; asserts the answer, that no serving process died and that no good request failed meanwhile.
 */
export async function runHostile(t: Tapish, arena: Arena, c: HostileCase): Promise<void> {
  arena.begin(c.title);
  const exitsBefore = arena.exits().length;
  const deployed = await arena.deploy(c.name, c.source, c.metadata);
  t.ok(deployed.status === 201 || deployed.status === 200, `deployed: ${deployed.status}`, deployed.status >= 300 ? { diagnostic: true, body: deployed.text } : {});
  const { reply, error, ms } = c.request ? await c.request(arena) : await arena.hit(c.name, c.path);
  const record = await arena.record(c.name, reply ? 15_000 : 3_000);
  const todo = c.bug ? { todo: `bug: ${c.bug}` } : {};
  const statuses = Array.isArray(c.status) ? c.status : [c.status];
  const outcomes = Array.isArray(c.outcome) ? c.outcome : [c.outcome];
  if (reply === null && c.clientError && error !== null && c.clientError.test(error)) t.comment(`cut short as expected: ${error}`);
  else t.ok(reply !== null && statuses.includes(reply.status), `answered ${statuses.join(' or ')} (got ${reply?.status ?? error})`, todo);
  if (reply && c.code && reply.status >= 400) t.equal(safeCode(reply), c.code, 'error code', todo);
  t.ok(record !== null && outcomes.includes(record.outcome as string), `outcome ${outcomes.join(' or ')} (got ${record?.outcome ?? 'no record'})`, todo);
  if (reply && c.check && (statuses.includes(reply.status) || !c.bug)) await c.check(t, reply, record);
  await arena.settle();
  const crashed = arena.exits().slice(exitsBefore);
  t.equal(crashed.length, 0, `no serving process died${crashed.length ? `: ${JSON.stringify(crashed)}` : ''}`, todo);
  if (crashed.length > 0) t.ok(await arena.waitReady(), 'the server is ready again after the crash');
  const during = await assertNoGoodFailures(t, arena, c.title, todo);
  const how = `${reply?.status ?? error} ${record?.outcome ?? '(no record)'} after ${ms.toFixed(0)} ms` +
    (record ? `, cpu ${(((record.cpuUs as number) ?? 0) / 1000).toFixed(1)} ms` : '') +
    (crashed.length ? `, serving process died (${crashed.map((e) => e.signal ?? e.code).join(', ')})` : '') +
    (during.length ? `, ${during.length} good requests failed` : '');
  t.comment(`${c.title}: ${how}`);
  arena.note({ title: c.title, status: reply?.status ?? error ?? 'none', outcome: (record?.outcome as string) ?? null, ms, note: how });
}

function safeCode(reply: Reply): string | undefined {
  try {
    return reply.json().error?.code;
  } catch {
    return undefined;
  }
}

/** The last test of a suite: the load stops; the totals are printed and must show zero failures. */
export async function finishArena(t: Tapish, arena: Arena, knownBugCases: string[] = []): Promise<void> {
  const s = await arena.summary();
  await Promise.all(arena.failures.map((f) => f.looked));
  const unexplained = arena.failures.filter((f) => !knownBugCases.some((title) => f.during === title || f.during === `(after ${title})`));
  t.comment(`good requests: ${s.served} served, ${s.failed} failed (latency p50 ${s.p50.toFixed(1)} ms, p99 ${s.p99.toFixed(1)} ms, max ${s.max.toFixed(0)} ms, started during ${JSON.stringify(s.slowestDuring)})`);
  for (const r of arena.results) t.comment(`  hostile: ${r.title}: ${r.note}`);
  for (const f of arena.failures) t.comment(`  good request failed at ${f.at} ms during ${JSON.stringify(f.during)}: ${f.host}: ${f.error}${f.record ? ` record ${JSON.stringify(f.record)}` : ''}`);
  t.equal(unexplained.length, 0, `no good request failed outside the known-bug cases${unexplained.length ? `: ${JSON.stringify(unexplained.slice(0, 5))}` : ''}`);
  if (arena.failures.length > unexplained.length) {
    t.equal(arena.failures.length - unexplained.length, 0, 'no good request failed during the known-bug cases', { todo: `bug: ${knownBugCases.join('; ')}` });
  }
  t.ok(s.served > 100, `the good load ran (${s.served} served)`);
}
