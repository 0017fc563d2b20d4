/**
 * CPU time of a process and all its descendants, from /proc (Linux): how much of the two cores a
 * server used during a run, next to the load generator's own share.
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

/** Seconds of CPU (user + system) used so far by `pid` and every live descendant; NaN off Linux. */
export function treeCpuSeconds(pid: number): number {
  if (process.platform !== 'linux') return NaN;
  const stats: Stat[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (stat) stats.push(stat);
  }
  const children = new Map<number, Stat[]>();
  for (const s of stats) {
    let list = children.get(s.ppid);
    if (!list) children.set(s.ppid, (list = []));
    list.push(s);
  }
  let ticks = 0;
  const queue = stats.filter((s) => s.pid === pid);
  while (queue.length) {
    const s = queue.pop()!;
    ticks += s.ticks;
    queue.push(...(children.get(s.pid) ?? []));
  }
  return ticks / TICKS_PER_SECOND;
}

/** Resident memory of `pid` and its descendants in bytes (sum of VmRSS); NaN off Linux. */
export function treeRssBytes(pid: number): number {
  if (process.platform !== 'linux') return NaN;
  const pids = [pid];
  const all: Stat[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (stat) all.push(stat);
  }
  for (let i = 0; i < pids.length; i++) for (const s of all) if (s.ppid === pids[i]) pids.push(s.pid);
  let bytes = 0;
  for (const p of pids) {
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
