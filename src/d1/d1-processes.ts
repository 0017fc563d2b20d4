/**
 * The D1 processes of one executor (or of the admin API): D1 queries run in child processes
 * (d1-process.ts), because node:sqlite cannot stop a query and a tenant's SQL may never end. Here:
 * - a database's queries run one at a time, in order, as on D1 (a database there is single-threaded):
 *   while it has work it holds one process;
 * - at most `maxProcesses`; a database with work waits for a free one, longest waiting first, and one
 *   that keeps a process busy hands it on after each query while others wait;
 * - a query runs for at most `timeoutMs` (D1's 30 s), and not past its deadline (the invocation's);
 *   past that its process is killed, which stops it, and only its database's queries wait meanwhile;
 * - a process idle for `idleMs` (5 minutes, as a warm isolate) exits: starting one takes ~130 ms, which a
 *   worker's next query would wait, and one holds ~31 MB of its own. None is started until a query comes.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { D1_DEFAULT_MAX_BYTES, type D1Answer, type D1Request } from './d1-database.ts';
import type { D1Done, D1Job, D1Ready } from './d1-process.ts';

const D1_PROCESS = fileURLToPath(new URL('./d1-process.ts', import.meta.url));
const NODE_ARGS = ['--max-old-space-size=256'];
/** A D1 process that has not said it listens by then is ended (its job fails, the next gets another). */
const STARTUP_MS = 10_000;
/**
 * A D1 process is killed with the thread that started it (Linux's parent-death signal, set by
 * util-linux's setpriv, which Debian always has): if a serving process crashed while one of its queries
 * ran, that process would never see its channel close (the query holds its event loop) and spin on.
 */
const SETPRIV = '/usr/bin/setpriv';
const LAUNCH = existsSync(SETPRIV) ? { execPath: SETPRIV, execArgv: ['--pdeathsig', 'KILL', '--', process.execPath, ...NODE_ARGS] } : { execArgv: NODE_ARGS };

export interface D1ProcessOptions {
  /** Where the databases are kept. */
  dir: string;
  maxProcesses: number;
  timeoutMs: number;
  idleMs: number;
  /** The most a database may hold on disk. */
  maxBytes: number;
}

/** What the operator sets (src/config/config.ts). */
export type D1Settings = Pick<D1ProcessOptions, 'dir' | 'timeoutMs' | 'maxBytes'>;

export const D1_PROCESS_DEFAULTS: Omit<D1ProcessOptions, 'dir'> = Object.freeze({ maxProcesses: 4, timeoutMs: 30_000, idleMs: 300_000, maxBytes: D1_DEFAULT_MAX_BYTES });

interface Job {
  id: number;
  database: string;
  request: D1Request;
  deadline: number;
  /** With the JSON of a D1Answer. */
  resolve: (json: string) => void;
}

interface D1Child {
  process: ChildProcess;
  /** It said it listens: its job's time runs from then (a new process's start is not the query's). */
  ready: boolean;
  /** The database it runs work for, or null while idle. */
  database: string | null;
  job: Job | null;
  timer: NodeJS.Timeout | null;
}

const failure = (message: string): string => JSON.stringify({ ok: false, kind: 'D1_ERROR', message } satisfies D1Answer);

/** An answer's JSON (D1Processes.query) as an object, for callers that read it rather than pass it on. */
export function parseAnswer(json: string): D1Answer {
  return JSON.parse(json) as D1Answer;
}

export class D1Processes {
  /** Where the databases are kept. */
  readonly dir: string;
  readonly #options: D1ProcessOptions;
  /** Work not started yet, per database. */
  readonly #queues = new Map<string, Job[]>();
  /** Databases whose work is under way, and the process running it. */
  readonly #holding = new Map<string, D1Child>();
  /** Databases with work and no process, longest waiting first. */
  readonly #waiting: string[] = [];
  readonly #idle: D1Child[] = [];
  readonly #children = new Set<D1Child>();
  #nextId = 0;
  #closed = false;

  constructor(options: Partial<D1ProcessOptions> & { dir: string }) {
    this.dir = options.dir;
    this.#options = { ...D1_PROCESS_DEFAULTS, ...options };
  }

  /** How many D1 processes are running. */
  get processCount(): number {
    return this.#children.size;
  }

  /**
   * Runs `request` on database `database`; resolves with the JSON of a D1Answer (the isolate parses it:
   * a large result costs the serving thread nothing but passing it on). Never rejects: a failure is an answer.
   */
  query(database: string, request: D1Request, deadline = Infinity): Promise<string> {
    if (this.#closed) return Promise.resolve(failure('D1 is shutting down'));
    return new Promise((resolve) => {
      const job: Job = { id: ++this.#nextId, database, request, deadline, resolve };
      let queue = this.#queues.get(database);
      if (!queue) this.#queues.set(database, (queue = []));
      queue.push(job);
      if (queue.length === 1 && !this.#holding.has(database)) this.#waiting.push(database);
      this.#schedule();
    });
  }

  /** Ends every process; work not done fails. */
  close(): Promise<void> {
    this.#closed = true;
    for (const queue of this.#queues.values()) for (const job of queue) job.resolve(failure('D1 is shutting down'));
    this.#queues.clear();
    this.#waiting.length = 0;
    const exits: Promise<void>[] = [];
    for (const child of [...this.#children]) {
      // Held until it is gone: a caller that awaits close() is not left with nothing keeping it running.
      child.process.ref();
      exits.push(new Promise((resolve) => (child.process.exitCode !== null || child.process.signalCode !== null ? resolve() : child.process.once('exit', () => resolve()))));
      this.#end(child, 'D1 is shutting down');
    }
    return Promise.all(exits).then(() => {});
  }

  #schedule(): void {
    while (this.#waiting.length > 0) {
      const child = this.#idle.pop() ?? (this.#children.size < this.#options.maxProcesses ? this.#spawn() : null);
      if (!child) return;
      if (child.timer) clearTimeout(child.timer);
      child.timer = null;
      const database = this.#waiting.shift()!;
      child.database = database;
      this.#holding.set(database, child);
      this.#next(child);
    }
  }

  /** The next job of the child's database, or the child back to the idle ones. */
  #next(child: D1Child): void {
    const database = child.database!;
    const queue = this.#queues.get(database) ?? [];
    let job = queue.shift();
    const now = Date.now();
    while (job && job.deadline <= now) {
      job.resolve(failure('the query did not start before the invocation ran out of time'));
      job = queue.shift();
    }
    if (!job) {
      this.#queues.delete(database);
      this.#release(child);
      return;
    }
    if (queue.length === 0) this.#queues.delete(database);
    child.job = job;
    if (child.ready) this.#time(child);
    child.process.channel?.ref();
    const message: D1Job = { id: job.id, database, request: job.request };
    child.process.send(message);
  }

  /** Stops the child's job at its time: the query's limit, or what is left of its invocation's. */
  #time(child: D1Child): void {
    const job = child.job!;
    const timeoutMs = Math.max(0, Math.min(this.#options.timeoutMs, job.deadline - Date.now()));
    child.timer = setTimeout(() => this.#end(child, `the query ran for more than ${Math.round(timeoutMs)} ms and was stopped`), timeoutMs);
  }

  #done(child: D1Child, done: D1Done): void {
    const job = child.job;
    if (!job || job.id !== done.id) return;
    clearTimeout(child.timer!);
    child.timer = null;
    child.job = null;
    job.resolve(done.json);
    const database = child.database!;
    if (this.#queues.has(database) && this.#waiting.length > 0 && this.#idle.length === 0 && this.#children.size >= this.#options.maxProcesses) {
      // Others wait for a process: this database goes to the back of the line.
      this.#release(child);
      this.#waiting.push(database);
      this.#schedule();
      return;
    }
    this.#next(child);
  }

  #release(child: D1Child): void {
    this.#holding.delete(child.database!);
    child.database = null;
    child.process.channel?.unref();
    this.#idle.push(child);
    child.timer = setTimeout(() => this.#end(child, null), this.#options.idleMs);
    child.timer.unref();
    this.#schedule();
  }

  #spawn(): D1Child {
    const subprocess = fork(D1_PROCESS, [this.dir, String(this.#options.maxBytes)], {
      ...LAUNCH,
      serialization: 'advanced',
      // Its stderr too: a tenant's query that runs it out of memory would print V8's report into the serving process's.
      stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
    });
    const child: D1Child = { process: subprocess, ready: false, database: null, job: null, timer: null };
    this.#children.add(child);
    subprocess.unref();
    const startup = setTimeout(() => this.#end(child, `the D1 process did not start within ${STARTUP_MS} ms`), STARTUP_MS);
    startup.unref();
    subprocess.on('message', (message: D1Done | D1Ready) => {
      if (!('ready' in message)) this.#done(child, message);
      else if (!child.ready) {
        clearTimeout(startup);
        child.ready = true;
        if (child.job) this.#time(child);
      }
    });
    subprocess.on('exit', (code, signal) => {
      clearTimeout(startup);
      this.#end(child, `the D1 process ended (${signal ?? `code ${code}`})`);
    });
    subprocess.on('error', (error) => this.#end(child, `the D1 process failed: ${error.message}`));
    return child;
  }

  /**
   * The child is gone or must go: it is killed (a query may be running), its job fails with `reason`,
   * and its database's other work waits for another process.
   */
  #end(child: D1Child, reason: string | null): void {
    if (!this.#children.delete(child)) return;
    if (child.timer) clearTimeout(child.timer);
    child.process.kill('SIGKILL');
    const idle = this.#idle.indexOf(child);
    if (idle !== -1) this.#idle.splice(idle, 1);
    child.job?.resolve(failure(reason ?? 'the D1 process ended'));
    child.job = null;
    const database = child.database;
    if (database !== null) {
      this.#holding.delete(database);
      // To the back of the line: a database whose queries keep running out of time must not get a
      // new process ahead of those waiting (four of them would hold every process).
      if (this.#queues.has(database) && !this.#closed) this.#waiting.push(database);
    }
    if (!this.#closed) this.#schedule();
  }
}
