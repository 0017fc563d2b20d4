/**
 * D1's processes (d1-processes.ts), real child processes: a database's queries run in order in one
 * process; a query past its time is stopped by ending its process, and only that database waits; a
 * process that dies is replaced; a database that keeps a process busy hands it on while others wait;
 * work that cannot start before its deadline fails without running; close() ends them all.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import type { D1Answer } from '../../src/d1/d1-database.ts';
import { D1Processes, parseAnswer } from '../../src/d1/d1-processes.ts';

const dir = mkdtempSync(join(tmpdir(), 'isolane-d1proc-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

const FOREVER = 'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c';
const sql = (processes: D1Processes, database: string, text: string, deadline?: number) => processes.query(database, { kind: 'query', statements: [{ sql: text, params: [] }] }, deadline).then(parseAnswer);
const value = (answer: D1Answer) => (answer.ok && 'results' in answer ? answer.results[0]!.rows[0]![0] : answer.ok ? 'ok' : answer.message);

t.test("a database's queries run in order; a runaway one is stopped and only its database waits", async (t) => {
  const processes = new D1Processes({ dir, timeoutMs: 800 });
  t.teardown(() => processes.close());
  await processes.query('ordered', { kind: 'exec', sql: 'CREATE TABLE log (n INTEGER)' });
  const writes = Array.from({ length: 20 }, (_, i) => sql(processes, 'ordered', `INSERT INTO log VALUES (${i})`));
  await Promise.all(writes);
  const order = await sql(processes, 'ordered', 'SELECT group_concat(n) FROM log');
  t.equal(value(order), Array.from({ length: 20 }, (_, i) => i).join(','), 'in the order they were asked');

  const started = Date.now();
  const runaway = sql(processes, 'spin', FOREVER);
  const after = sql(processes, 'spin', 'SELECT 7');
  const other = await sql(processes, 'ordered', 'SELECT count(*) FROM log');
  t.equal(value(other), 20, `another database is answered meanwhile (${Date.now() - started} ms)`);
  t.match(value(await runaway), /ran for more than 800 ms and was stopped/);
  t.ok(Date.now() - started < 5000, 'stopped near its limit');
  t.equal(value(await after), 7, 'the next query of that database runs in a new process');
});

t.test('a database whose queries keep running out of time goes to the back of the line', async (t) => {
  const processes = new D1Processes({ dir, timeoutMs: 300, maxProcesses: 1 });
  t.teardown(() => processes.close());
  const started = Date.now();
  const hostile = Array.from({ length: 6 }, () => sql(processes, 'hostile', FOREVER));
  await new Promise((resolve) => setTimeout(resolve, 20));
  const victim = await sql(processes, 'victim', 'SELECT 1');
  const waited = Date.now() - started;
  t.equal(value(victim), 1);
  t.ok(waited < 1500, `answered after ${waited} ms: after the first stopped query, not all six (~1,800 ms)`);
  await Promise.all(hostile);
});

t.test('a process that dies is replaced; its query fails, the next one runs', async (t) => {
  const { spawnSync } = await import('node:child_process');
  // The D1 processes of this test file, by their command line (pgrep run without a shell, which would match too).
  const d1Pids = () => new Set(spawnSync('pgrep', ['-f', '-P', String(process.pid), 'd1-process.ts']).stdout.toString().trim().split('\n').filter(Boolean));
  const before = d1Pids();
  const processes = new D1Processes({ dir, timeoutMs: 10_000 });
  t.teardown(() => processes.close());
  t.equal(value(await sql(processes, 'crash', 'SELECT 1')), 1);
  t.equal(processes.processCount, 1);
  const running = sql(processes, 'crash', FOREVER);
  await new Promise((resolve) => setTimeout(resolve, 100));
  const started = [...d1Pids()].filter((pid) => !before.has(pid));
  t.equal(started.length, 1, `one D1 process: ${started.join(' ')}`);
  process.kill(Number(started[0]), 'SIGKILL');
  t.match(value(await running), /the D1 process ended \(SIGKILL\)/);
  t.equal(value(await sql(processes, 'crash', 'SELECT 2')), 2);
});

t.test('with every process busy, a waiting database gets one after the current query', async (t) => {
  const processes = new D1Processes({ dir, timeoutMs: 10_000, maxProcesses: 1 });
  t.teardown(() => processes.close());
  const finished: string[] = [];
  const heavy = (i: number) =>
    sql(processes, 'busy', 'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 200000) SELECT count(*) FROM c').then(() => finished.push(`busy ${i}`));
  const queued = [heavy(1), heavy(2), heavy(3), heavy(4)];
  await new Promise((resolve) => setTimeout(resolve, 20));
  const light = sql(processes, 'light', 'SELECT 1').then(() => finished.push('light'));
  await Promise.all([...queued, light]);
  t.ok(finished.indexOf('light') < 3, `the other database did not wait for all four: ${finished.join(', ')}`);
  t.equal(processes.processCount, 1, 'within the bound');
});

t.test('work that cannot start before its deadline fails without running; close() ends everything', async (t) => {
  const processes = new D1Processes({ dir, timeoutMs: 10_000, maxProcesses: 1 });
  await processes.query('late', { kind: 'exec', sql: 'CREATE TABLE IF NOT EXISTS t (x)' });
  const blocker = sql(processes, 'late', 'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 300000) SELECT count(*) FROM c');
  const late = sql(processes, 'late', 'INSERT INTO t VALUES (1)', Date.now() + 1);
  await blocker;
  t.match(value(await late), /did not start before the invocation ran out of time/);
  t.equal(value(await sql(processes, 'late', 'SELECT count(*) FROM t')), 0, 'it never ran');
  const spinning = sql(processes, 'late', FOREVER);
  await processes.close();
  t.match(value(await spinning), /shutting down/);
  t.equal(processes.processCount, 0);
  t.match(value(await sql(processes, 'late', 'SELECT 1')), /shutting down/, 'nothing runs after close()');
});

t.test('a D1 process dies with the process that started it, even in the middle of a query', async (t) => {
  const { spawn } = await import('node:child_process');
  const script = `
    import { D1Processes } from ${JSON.stringify(new URL('../../src/d1/d1-processes.ts', import.meta.url).href)};
    const processes = new D1Processes({ dir: ${JSON.stringify(dir)}, timeoutMs: 60000 });
    void processes.query('orphan', { kind: 'query', statements: [{ sql: ${JSON.stringify(FOREVER)}, params: [] }] });
    setInterval(() => {}, 1000);
  `;
  const parent = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: 'ignore' });
  t.teardown(() => parent.kill('SIGKILL'));
  const { execSync } = await import('node:child_process');
  const children = () => execSync(`pgrep -P ${parent.pid} || true`).toString().trim().split('\n').filter(Boolean);
  let pids: string[] = [];
  for (let i = 0; i < 100 && pids.length === 0; i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    pids = children();
  }
  t.equal(pids.length, 1, 'the D1 process runs the query');
  await new Promise((resolve) => setTimeout(resolve, 200));
  parent.kill('SIGKILL');
  const alive = (pid: string) => {
    try {
      process.kill(Number(pid), 0);
      return true;
    } catch {
      return false;
    }
  };
  let gone = false;
  for (let i = 0; i < 40 && !gone; i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    gone = !alive(pids[0]!);
  }
  t.ok(gone, 'and is gone once its parent was killed');
  if (!gone) process.kill(Number(pids[0]), 'SIGKILL');
});
