/**
 * CPU time and memory of a process and all its descendants, from /proc (Linux): how much of the two
 * cores a server used during a run, next to the load generator's own share.
 */
import { readdirSync, readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

interface Stat {
  pid: number;
  ppid: number;
  ticks: number;
}

function readStat(pid: number): Stat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name is in parentheses and may hold spaces: fields start after the last ')'.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { pid, ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) };
  } catch {
    return undefined;
  }
}

/** `pid` and every live descendant, with their stats (Linux). */
function processTree(pid: number): Stat[] {
  const all: Stat[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (stat) all.push(stat);
  }
  const tree = all.filter((s) => s.pid === pid);
  for (let i = 0; i < tree.length; i++) for (const s of all) if (s.ppid === tree[i]!.pid) tree.push(s);
  return tree;
}

/** `pid`'s live descendants (children, their children, ...), not `pid` itself; empty off Linux. */
export function descendantPids(pid: number): number[] {
  if (process.platform !== 'linux') return [];
  return processTree(pid)
    .slice(1)
    .map((s) => s.pid);
}

/**
 * Nanoseconds each thread of these processes has spent on a CPU so far, by `pid/tid`, from the
 * scheduler's own account (`/proc/<pid>/task/<tid>/schedstat`, first field): unlike /proc's stat ticks
 * (10 ms), precise enough to time one request. Empty off Linux.
 */
export function threadCpuNs(pids: number[]): Map<string, number> {
  const threads = new Map<string, number>();
  if (process.platform !== 'linux') return threads;
  for (const pid of pids) {
    let tids: string[];
    try {
      tids = readdirSync(`/proc/${pid}/task`);
    } catch {
      continue;
    }
    for (const tid of tids) {
      try {
        threads.set(`${pid}/${tid}`, Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ', 1)[0]));
      } catch {}
    }
  }
  return threads;
}

/** The thread that spent the most CPU between two `threadCpuNs` readings, and how many ns. */
export function busiestThread(before: Map<string, number>, after: Map<string, number>): { thread: string; ns: number } {
  let busiest = { thread: '', ns: 0 };
  for (const [thread, ns] of after) {
    const spent = ns - (before.get(thread) ?? 0);
    if (spent > busiest.ns) busiest = { thread, ns: spent };
  }
  return busiest;
}

/** Seconds of CPU (user + system) used so far by `pid` and every live descendant; NaN off Linux. */
export function treeCpuSeconds(pid: number): number {
  if (process.platform !== 'linux') return NaN;
  return processTree(pid).reduce((ticks, s) => ticks + s.ticks, 0) / TICKS_PER_SECOND;
}

/** Resident memory of `pid` and its descendants in bytes (sum of VmRSS); NaN off Linux. */
export function treeRssBytes(pid: number): number {
  if (process.platform !== 'linux') return NaN;
  let bytes = 0;
  for (const { pid: p } of processTree(pid)) {
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${p}/status`, 'utf8'));
      if (m) bytes += Number(m[1]) * 1024;
    } catch {}
  }
  return bytes;
}

/** Seconds of CPU the whole machine has been busy (all cores, /proc/stat); NaN off Linux. */
export function machineBusySeconds(): number {
  if (process.platform !== 'linux') return NaN;
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal ...: busy is everything but idle and iowait.
    const busy = fields.reduce((sum, v, i) => (i === 3 || i === 4 ? sum : sum + v), 0);
    return busy / TICKS_PER_SECOND;
  } catch {
    return NaN;
  }
}
