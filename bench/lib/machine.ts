/** Facts about the machine and the code a run measured, for the JSON of the run and the report. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, freemem, loadavg, totalmem, release, platform, arch } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './isolane-server.ts';

/** Version of an installed package under `base`'s node_modules, or undefined. */
export function packageVersion(name: string, base = ROOT): string | undefined {
  try {
    return (JSON.parse(readFileSync(join(base, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return undefined;
  }
}

export interface MachineFacts {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  freeMemoryGiB: number;
  loadAverage: number[];
  os: string;
  node: string;
  v8: string;
  dependencies: Record<string, string | undefined>;
  git: { commit: string | undefined; dirty: boolean | undefined; subject: string | undefined };
}

function git(args: string[]): string | undefined {
  try {
    return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

export function machineFacts(): MachineFacts {
  const status = git(['status', '--porcelain', '--untracked-files=no']);
  return {
    cpuModel: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    freeMemoryGiB: Math.round((freemem() / 2 ** 30) * 10) / 10,
    loadAverage: loadavg().map((l) => Math.round(l * 100) / 100),
    os: `${platform()} ${release()} ${arch()}`,
    node: process.version,
    v8: process.versions.v8,
    dependencies: Object.fromEntries(['isolated-vm', 'hono', 'undici', 'esbuild', '@hono/node-server', 'web-streams-polyfill', 'whatwg-url'].map((name) => [name, packageVersion(name)])),
    git: { commit: git(['rev-parse', 'HEAD']), dirty: status === undefined ? undefined : status.length > 0, subject: git(['log', '-1', '--format=%s']) },
  };
}
