/**
 * Peers that are not dependencies of Isolane (workerd, edge-runtime) are installed on first use into a
 * cache directory, bench/.peers/<name>/ (git-ignored), with `npm install --prefix`, at a pinned version.
 * The tests never need them.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from '../isolane-server.ts';
import { packageVersion } from '../machine.ts';
import { PeerUnavailable } from './common.ts';

export const PEERS_DIR = process.env.ISOLANE_BENCH_PEERS_DIR ?? join(ROOT, 'bench', '.peers');

/** Returns the cache directory with `pkg@version` installed in its node_modules; installs it if needed. */
export async function ensurePeerPackage(dirName: string, pkg: string, version: string, log: (line: string) => void): Promise<string> {
  const dir = join(PEERS_DIR, dirName);
  if (packageVersion(pkg, dir) === version) return dir;
  mkdirSync(dir, { recursive: true });
  if (!existsSync(join(dir, 'package.json'))) writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `isolane-bench-peer-${dirName}`, private: true }, null, 2) + '\n');
  log(`installing ${pkg}@${version} into ${dir} (first use)…`);
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  try {
    await promisify(execFile)(npm, ['install', '--prefix', dir, '--no-audit', '--no-fund', '--save-exact', `${pkg}@${version}`], { cwd: dir, timeout: 300_000 });
  } catch (err) {
    throw new PeerUnavailable(`npm install ${pkg}@${version} failed: ${String((err as { stderr?: string }).stderr ?? err).slice(-800)}`);
  }
  if (packageVersion(pkg, dir) !== version) throw new PeerUnavailable(`${pkg}@${version} is not in ${dir} after npm install`);
  return dir;
}
