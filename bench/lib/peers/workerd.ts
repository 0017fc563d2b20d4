/**
 * workerd, Cloudflare's open-source Workers runtime (npm `workerd`, installed on first use into
 * bench/.peers/workerd/), serving the same ES module on a loopback socket. One process, as `workerd
 * serve` runs by default.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, PeerUnavailable, spawnChild, waitForHttp, type Peer } from './common.ts';
import { ensurePeerPackage } from './install.ts';

export const WORKERD_VERSION = '1.20261117.1';
const COMPATIBILITY_DATE = '2025-09-01';

function binary(dir: string): string {
  const platformArch = `${process.platform === 'win32' ? 'windows' : process.platform}-${process.arch === 'x64' ? '64' : process.arch}`;
  for (const candidate of [join(dir, 'node_modules', '@cloudflare', `workerd-${platformArch}`, 'bin', 'workerd'), join(dir, 'node_modules', 'workerd', 'bin', 'workerd')]) {
    if (existsSync(candidate)) return candidate;
  }
  throw new PeerUnavailable(`no workerd binary for ${platformArch} in ${dir}`);
}

export async function startWorkerd(source: string, options: { path?: string; log?: (line: string) => void } = {}): Promise<Peer> {
  const dir = await ensurePeerPackage('workerd', 'workerd', WORKERD_VERSION, options.log ?? (() => {}));
  const bin = binary(dir);
  const work = mkdtempSync(join(tmpdir(), 'isolane-bench-workerd-'));
  const port = await freePort();
  writeFileSync(join(work, 'worker.js'), source);
  writeFileSync(
    join(work, 'config.capnp'),
    `using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [ (name = "main", worker = .mainWorker) ],
  sockets = [ (name = "http", address = "127.0.0.1:${port}", http = (), service = "main") ],
);

const mainWorker :Workerd.Worker = (
  modules = [ (name = "worker.js", esModule = embed "worker.js") ],
  compatibilityDate = "${COMPATIBILITY_DATE}",
);
`,
  );
  const child = spawnChild(bin, ['serve', join(work, 'config.capnp')], { cwd: work });
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForHttp(child, url, 'workerd', options.path ?? '/');
  } catch (err) {
    rmSync(work, { recursive: true, force: true });
    throw err;
  }
  return {
    name: 'workerd',
    url,
    host: 'workerd',
    pid: child.child.pid!,
    version: `workerd ${WORKERD_VERSION}`,
    describe: 'one process (`workerd serve`, default config: one thread serving)',
    async stop() {
      await child.stop();
      rmSync(work, { recursive: true, force: true });
    },
  };
}
