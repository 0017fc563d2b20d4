/**
 * The benchmark's per-thread CPU reading (bench/lib/proc.ts), which the metering scenario compares
 * charged CPU against: a child process burns CPU on a worker thread while its main thread waits; the
 * busiest thread must be that worker thread, with about the CPU the thread measured itself, however
 * loaded the machine is.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import t from 'tap';
import { busiestThread, descendantPids, threadCpuNs } from '../../bench/lib/proc.ts';

// The worker thread reports its thread id (Linux tid via /proc/thread-self) and, after a message, burns
// 50 ms of its CPU and reports what it measured with process.threadCpuUsage.
const CHILD = `
const { Worker } = require('node:worker_threads');
const w = new Worker(\`
  const { parentPort } = require('node:worker_threads');
  const tid = require('node:fs').readlinkSync('/proc/thread-self').split('/').pop();
  parentPort.postMessage({ tid });
  // 'on', not 'once': a listener keeps the thread alive, and one that ended would leave /proc/<pid>/task.
  parentPort.on('message', () => {
    const start = process.threadCpuUsage();
    const spent = () => { const u = process.threadCpuUsage(start); return u.user + u.system; };
    let x = 0;
    while (spent() < 50000) for (let i = 0; i < 10000; i++) x += Math.sqrt(x + 1);
    parentPort.postMessage({ usedUs: spent() });
  });
\`, { eval: true });
w.on('message', (m) => process.send(m));
process.on('message', () => w.postMessage('go'));
process.on('disconnect', () => process.exit(0));
`;

t.test('the busiest thread of a child process and its CPU, from the kernel', { skip: process.platform !== 'linux' && 'Linux only' }, async (t) => {
  const child = spawn(process.execPath, ['-e', CHILD], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  t.teardown(() => child.kill());
  const [{ tid }] = (await once(child, 'message')) as [{ tid: string }];
  const pids = descendantPids(process.pid);
  t.ok(pids.includes(child.pid!), 'the child is among the descendants');

  const before = threadCpuNs(pids);
  t.ok(before.has(`${child.pid}/${tid}`), 'the worker thread is listed');
  child.send('go');
  const [{ usedUs }] = (await once(child, 'message')) as [{ usedUs: number }];
  const busiest = busiestThread(before, threadCpuNs(pids));
  t.equal(busiest.thread, `${child.pid}/${tid}`, 'the busiest thread is the one that burned');
  t.ok(usedUs >= 50_000, `the thread burned ${usedUs} µs`);
  // The kernel's figure covers the whole interval (the thread's own reading is inside it) and no more
  // than that thread's work: a little above its own reading.
  t.ok(busiest.ns / 1000 >= usedUs - 1000 && busiest.ns / 1000 <= usedUs + 10_000, `kernel ${Math.round(busiest.ns / 1000)} µs, the thread's own ${usedUs} µs`);
});
