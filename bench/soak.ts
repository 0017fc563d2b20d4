/**
 * Soak: tenants churning for a long time, to check that memory stays flat. For --minutes (default 10):
 * a pool of workers is redeployed, deleted and created again in a loop, requests spread over all of
 * them, and a few hostile tenants loop to their CPU limit or blow their memory limit. Every 15 s the RSS
 * of the primary and of every serving process is read (from /proc, the pids from GET /v1/system). The
 * report compares the first sample after the warm-up minute with the last one.
 *
 *   node --no-node-snapshot bench/soak.ts [--minutes 10] [--workers 200] [--recycle-rss-mb N]
 *
 * Isolates created and disposed over and over make a process's RSS creep (isolated-vm #207, measured
 * here: ~15 MB a minute per serving process with deploys every 100 ms); --recycle-rss-mb is the server's
 * bound that answers it (default: the server's own, 4096).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Agent, request } from 'undici';
import { startIsolane } from './lib/isolane-server.ts';

const { values } = parseArgs({ options: { minutes: { type: 'string', default: '10' }, workers: { type: 'string', default: '200' }, 'recycle-rss-mb': { type: 'string' } } });
const MINUTES = Number(values.minutes);
const WORKERS = Number(values.workers);
const SAMPLE_MS = 15_000;
const WARMUP_MS = Math.min(60_000, (MINUTES * 60_000) / 5);

const rssOf = (pid: number): number => {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'));
    return line ? Number(line.split(/\s+/)[1]) * 1024 : 0;
  } catch {
    return 0;
  }
};

const source = (name: string, generation: number) => `export default { fetch(request) { const u = new URL(request.url); return Response.json({ name: '${name}', generation: ${generation}, path: u.pathname, at: Date.now() }) } }`;
const HOSTILE: Record<string, string> = {
  'soak-loop': `export default { fetch() { for (;;) {} } }`,
  'soak-bomb': `export default { fetch() { const a = []; for (;;) a.push(new Array(1e5).fill(1.5)); } }`,
};

const recycle = values['recycle-rss-mb'] ? ['--recycle-rss-mb', values['recycle-rss-mb']] : [];
const server = await startIsolane({ args: ['--executors', '2', '--max-isolates', String(Math.ceil(WORKERS / 2)), ...recycle], collect: false });
const generations = new Map<string, number>();
const names = Array.from({ length: WORKERS }, (_, i) => `soak-${i}`);
const counts = { requests: 0, good: 0, failed: 0, hostile: 0, deploys: 0, deletes: 0 };
/** Failed good requests by status (and error code) or client error, to tell a limit from a crash. */
const failures = new Map<string, number>();
const failedAs = (key: string) => failures.set(key, (failures.get(key) ?? 0) + 1);
const samples: { atSeconds: number; primary: number; serving: number[]; total: number }[] = [];
const started = Date.now();
const end = started + MINUTES * 60_000;
try {
  for (let i = 0; i < names.length; i += 8) {
    await Promise.all(names.slice(i, i + 8).map(async (name) => {
      generations.set(name, 1);
      await server.deployModule(name, source(name, 1));
    }));
  }
  for (const [name, code] of Object.entries(HOSTILE)) await server.deployModule(name, code, { limits: { cpu_ms: 20, memory_mb: 16 } });

  const sample = async () => {
    const system = (await server.admin('GET', '/v1/system')) as { pid: number; memory: { heapUsedBytes: number }; servingProcesses: { pid: number }[] };
    const serving = system.servingProcesses.map((p) => rssOf(p.pid));
    const primary = rssOf(system.pid);
    samples.push({ atSeconds: Math.round((Date.now() - started) / 1000), primary, serving, total: primary + serving.reduce((a, b) => a + b, 0) });
    const last = samples.at(-1)!;
    process.stderr.write(`${last.atSeconds}s rss total ${(last.total / 1048576).toFixed(0)} MiB (primary ${(primary / 1048576).toFixed(0)}, its heap ${(system.memory.heapUsedBytes / 1048576).toFixed(0)}, serving ${serving.map((r) => (r / 1048576).toFixed(0)).join(' + ')}); ${JSON.stringify(counts)}\n`);
  };
  const sampler = setInterval(() => void sample(), SAMPLE_MS);
  await sample();

  const agent = new Agent({ connections: 8 });
  const traffic = Array.from({ length: 6 }, async () => {
    while (Date.now() < end) {
      const hostile = Math.random() < 0.01;
      const name = hostile ? Object.keys(HOSTILE)[Math.floor(Math.random() * 2)]! : names[Math.floor(Math.random() * names.length)]!;
      try {
        const res = await request(`${server.dataUrl}/x`, { headers: { host: `${name}.localhost` }, dispatcher: agent });
        const text = await res.body.text();
        counts.requests++;
        if (hostile) counts.hostile++;
        else if (res.statusCode === 200 && text.includes(`"name":"${name}"`)) counts.good++;
        else if (res.statusCode !== 404) {
          // 404: deleted a moment ago.
          counts.failed++;
          failedAs(`${res.statusCode} ${/"code":"([A-Z_]+)"/.exec(text)?.[1] ?? ''}`.trim());
        }
      } catch (err) {
        counts.failed++;
        failedAs((err as { code?: string }).code ?? (err as Error).message);
      }
    }
  });
  const churn = (async () => {
    while (Date.now() < end) {
      const name = names[Math.floor(Math.random() * names.length)]!;
      if (Math.random() < 0.2) {
        await server.admin('DELETE', `/v1/workers/${name}`).catch(() => {});
        counts.deletes++;
      }
      const generation = (generations.get(name) ?? 0) + 1;
      generations.set(name, generation);
      await server.deployModule(name, source(name, generation));
      counts.deploys++;
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  await Promise.all([...traffic, churn]);
  clearInterval(sampler);
  await sample();
  await agent.close();

  const afterWarmup = samples.find((s) => s.atSeconds * 1000 >= WARMUP_MS) ?? samples[0]!;
  const last = samples.at(-1)!;
  const max = Math.max(...samples.filter((s) => s.atSeconds >= afterWarmup.atSeconds).map((s) => s.total));
  const mib = (n: number) => (n / 1048576).toFixed(0);
  const restarts = ((await server.admin('GET', '/v1/system')) as { restarts: number }).restarts;
  console.log(`# soak: ${MINUTES} min, ${WORKERS} churning workers (+2 hostile), 6 request loops, 2 serving processes${recycle.length ? `, recycled past ${recycle[1]} MB` : ''} (crash restarts: ${restarts})`);
  console.log(`requests ${counts.requests} (good ${counts.good}, failed ${counts.failed}, hostile ${counts.hostile}); deploys ${counts.deploys}, deletes ${counts.deletes}`);
  if (failures.size > 0) console.log(`failed good requests: ${[...failures].map(([k, n]) => `${k} ×${n}`).join(', ')}`);
  const mid = samples.find((s) => s.atSeconds * 1000 >= (MINUTES * 60_000) / 2.5) ?? afterWarmup;
  console.log(`from ${mid.atSeconds} s (the isolate pools full) to the end: ${(((last.total - mid.total) / mid.total) * 100).toFixed(1)}%`);
  console.log('| rss | after warm-up (' + afterWarmup.atSeconds + ' s) | end (' + last.atSeconds + ' s) | max after warm-up | change |\n|---|---|---|---|---|');
  console.log(`| all processes | ${mib(afterWarmup.total)} MiB | ${mib(last.total)} MiB | ${mib(max)} MiB | ${(((last.total - afterWarmup.total) / afterWarmup.total) * 100).toFixed(1)}% |`);
  console.log(`| primary | ${mib(afterWarmup.primary)} MiB | ${mib(last.primary)} MiB | | ${(((last.primary - afterWarmup.primary) / afterWarmup.primary) * 100).toFixed(1)}% |`);
} finally {
  await server.stop();
}
