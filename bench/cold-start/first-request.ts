/**
 * Cold starts: deploy N distinct workers, restart the server (so none is warm), then time the first
 * request to each, and read the isolate build time (initMs) from its invocation record.
 *
 *   node --no-node-snapshot bench/cold-start/first-request.ts [--workers 100]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { request } from 'undici';

const ROOT = join(import.meta.dirname, '..', '..');
const { values } = parseArgs({ options: { workers: { type: 'string', default: '100' } } });
const WORKERS = Number(values.workers);

interface Server {
  child: ChildProcess;
  dataUrl: string;
  adminUrl: string;
  records: Map<string, Record<string, unknown>>;
}

async function start(dataDir: string): Promise<Server> {
  const child = spawn(process.execPath, ['--no-node-snapshot', join(ROOT, 'src', 'cli.ts'), 'serve', '--port', '0', '--admin-port', '0', '--data-dir', dataDir, '--admin-token', 'bench'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const records = new Map<string, Record<string, unknown>>();
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const parsed = JSON.parse(line) as Record<string, unknown>;
      if (parsed.type === 'ready') resolve({ child, dataUrl: parsed.dataPlane as string, adminUrl: parsed.admin as string, records });
      if (parsed.type === 'invocation') records.set(parsed.worker as string, parsed);
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
}

const stop = (server: Server) => new Promise((resolve) => (server.child.once('exit', resolve), server.child.kill('SIGTERM')));
const pct = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;

const dataDir = mkdtempSync(join(tmpdir(), 'isolane-cold-'));
try {
  const first = await start(dataDir);
  for (let i = 0; i < WORKERS; i++) {
    const res = await fetch(`${first.adminUrl}/v1/workers/cold-${i}`, {
      method: 'PUT',
      headers: { authorization: 'Bearer bench', 'content-type': 'application/javascript+module' },
      body: `export default { fetch(request) { return Response.json({ worker: ${i}, path: new URL(request.url).pathname }) } }`,
    });
    if (!res.ok) throw new Error(await res.text());
  }
  await stop(first);

  const server = await start(dataDir);
  const ttfb: number[] = [];
  for (let i = 0; i < WORKERS; i++) {
    const sent = performance.now();
    const res = await request(`${server.dataUrl}/`, { headers: { host: `cold-${i}.localhost` } });
    ttfb.push(performance.now() - sent);
    await res.body.text();
    if (res.statusCode !== 200) throw new Error(`cold-${i}: ${res.statusCode}`);
  }
  await new Promise((r) => setTimeout(r, 200));
  const init = [...server.records.values()].filter((r) => r.cold).map((r) => r.initMs as number).sort((a, b) => a - b);
  const slowest = ttfb.map((ms, i) => [ms, i] as const).sort((a, b) => b[0] - a[0]).slice(0, 3);
  ttfb.sort((a, b) => a - b);
  console.log(`# cold start, ${WORKERS} workers, first request each after a restart`);
  const describe = (ms: number, i: number) => `#${i} ${ms.toFixed(1)} ms (server: wall ${server.records.get(`cold-${i}`)?.wallMs} ms, init ${server.records.get(`cold-${i}`)?.initMs} ms)`;
  console.log(`slowest: ${slowest.map(([ms, i]) => describe(ms, i)).join(', ')}`);
  console.log('| measure | p50 ms | p99 ms | max ms |\n|---|---|---|---|');
  console.log(`| time to first byte (client) | ${pct(ttfb, 0.5).toFixed(2)} | ${pct(ttfb, 0.99).toFixed(2)} | ${ttfb.at(-1)!.toFixed(2)} |`);
  console.log(`| isolate build, initMs (${init.length} cold records) | ${pct(init, 0.5).toFixed(2)} | ${pct(init, 0.99).toFixed(2)} | ${init.at(-1)!.toFixed(2)} |`);
  await stop(server);
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}
