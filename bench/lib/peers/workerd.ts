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
  const fleet = await startWorkerdFleet([source], options);
  return {
    name: 'workerd',
    url: fleet.urls[0]!,
    host: 'workerd',
    pid: fleet.pid,
    version: `workerd ${WORKERD_VERSION}`,
    describe: 'one process (`workerd serve`, default config: one thread serving)',
    stop: () => fleet.stop(),
  };
}

/** One workerd process serving several workers, each its own service (and so its own isolate). */
export interface WorkerdFleet {
  /** Worker i answers on `urls[i]`, a loopback socket of its own. */
  urls: string[];
  pid: number;
  stop(): Promise<void>;
}

/**
 * Starts workerd with one worker per source, each on a socket of its own (workerd routes a socket to one
 * service), and waits until the first answers `options.path` (workerd builds every worker at start).
 */
export async function startWorkerdFleet(sources: string[], options: { path?: string; log?: (line: string) => void } = {}): Promise<WorkerdFleet> {
  const dir = await ensurePeerPackage('workerd', 'workerd', WORKERD_VERSION, options.log ?? (() => {}));
  const bin = binary(dir);
  const work = mkdtempSync(join(tmpdir(), 'isolane-bench-workerd-'));
  // Distinct: a port freed for one socket may be handed out again for the next.
  const taken = new Set<number>();
  while (taken.size < sources.length) taken.add(await freePort());
  const ports = [...taken];
  sources.forEach((source, i) => writeFileSync(join(work, `worker${i}.js`), source));
  const services = sources.map(
    (_, i) => `(name = "w${i}", worker = (modules = [ (name = "worker.js", esModule = embed "worker${i}.js") ], compatibilityDate = "${COMPATIBILITY_DATE}"))`,
  );
  const sockets = ports.map((port, i) => `(name = "s${i}", address = "127.0.0.1:${port}", http = (), service = "w${i}")`);
  writeFileSync(
    join(work, 'config.capnp'),
    `using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [ ${services.join(',\n    ')} ],
  sockets = [ ${sockets.join(',\n    ')} ],
);
`,
  );
  const child = spawnChild(bin, ['serve', join(work, 'config.capnp')], { cwd: work });
  const urls = ports.map((port) => `http://127.0.0.1:${port}`);
  try {
    await waitForHttp(child, urls[0]!, 'workerd', options.path ?? '/', Math.max(30_000, sources.length * 100));
  } catch (err) {
    rmSync(work, { recursive: true, force: true });
    throw err;
  }
  return {
    urls,
    pid: child.child.pid!,
    async stop() {
      await child.stop();
      rmSync(work, { recursive: true, force: true });
    },
  };
}
