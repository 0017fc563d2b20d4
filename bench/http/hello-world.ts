/**
 * Hello world through Isolane's full path (Host routing, isolate, metering on) against a bare node:http
 * server, in the same run: alternating rounds, medians, and the ratio. Both servers run as child processes
 * on loopback; the load comes from this process (undici, keep-alive) and its CPU use is reported, since on
 * 2 cores it competes with the server.
 *
 *   npm run bench                       # defaults: 3 rounds × 5 s, 32 connections
 *   npm run bench -- --rounds 5 --seconds 10 --connections 64
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';

const ROOT = join(import.meta.dirname, '..', '..');
const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '5' },
    connections: { type: 'string', default: '32' },
  },
});
const ROUNDS = Number(values.rounds);
const SECONDS = Number(values.seconds);
const CONNECTIONS = Number(values.connections);
const HELLO = `export default { fetch() { return new Response('Hello World!') } }`;

interface Target {
  name: string;
  url: string;
  host: string;
  child: ChildProcess;
}

function firstJsonLine(child: ChildProcess, type: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      try {
        const parsed = JSON.parse(line) as Record<string, unknown>;
        if (parsed.type === type) resolve(parsed);
      } catch {}
    });
    child.once('exit', (code) => reject(new Error(`exited with ${code} before ${type}`)));
  });
}

async function startBare(): Promise<Target> {
  const code = `const http = require('node:http');
    const server = http.createServer((req, res) => { res.writeHead(200, { 'content-type': 'text/plain;charset=UTF-8' }); res.end('Hello World!'); });
    server.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ type: 'ready', port: server.address().port })));`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  const ready = await firstJsonLine(child, 'ready');
  return { name: 'bare node:http', url: `http://127.0.0.1:${ready.port}`, host: 'bare', child };
}

async function startIsolane(dataDir: string): Promise<Target> {
  const child = spawn(process.execPath, ['--no-node-snapshot', join(ROOT, 'src', 'cli.ts'), 'serve', '--port', '0', '--admin-port', '0', '--data-dir', dataDir, '--admin-token', 'bench', '--log', 'stdout'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const ready = await firstJsonLine(child, 'ready');
  // Keep draining stdout (the per-invocation log lines) as a log collector would.
  child.stdout!.resume();
  const res = await fetch(`${ready.admin}/v1/workers/hello`, { method: 'PUT', headers: { authorization: 'Bearer bench', 'content-type': 'application/javascript+module' }, body: HELLO });
  if (!res.ok) throw new Error(`deploy failed: ${await res.text()}`);
  return { name: 'isolane', url: ready.dataPlane as string, host: 'hello.localhost', child };
}

interface RoundResult {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  clientCpuPercent: number;
}

async function load(target: Target, seconds: number): Promise<RoundResult> {
  const pool = new Pool(target.url, { connections: CONNECTIONS, pipelining: 1 });
  const latencies: number[] = [];
  let errors = 0;
  const deadline = performance.now() + seconds * 1000;
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (performance.now() < deadline) {
        const sent = performance.now();
        try {
          const res = await pool.request({ path: '/', method: 'GET', headers: { host: target.host } });
          await res.body.text();
          if (res.statusCode !== 200) errors++;
        } catch {
          errors++;
        }
        latencies.push(performance.now() - sent);
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  await pool.close();
  latencies.sort((a, b) => a - b);
  return {
    requestsPerSecond: latencies.length / elapsed,
    p50Ms: latencies[Math.floor(latencies.length * 0.5)]!,
    p99Ms: latencies[Math.floor(latencies.length * 0.99)]!,
    errors,
    clientCpuPercent: ((cpu.user + cpu.system) / 1e6 / elapsed) * 100,
  };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

const dataDir = mkdtempSync(join(tmpdir(), 'isolane-bench-'));
const targets = [await startBare(), await startIsolane(dataDir)];
try {
  console.log(`# hello world: ${ROUNDS} rounds × ${SECONDS} s, ${CONNECTIONS} connections, ${cpus().length} cores (${cpus()[0]?.model})`);
  for (const target of targets) await load(target, 1); // warm up
  const results = new Map<string, RoundResult[]>(targets.map((t) => [t.name, []]));
  for (let round = 1; round <= ROUNDS; round++) {
    for (const target of round % 2 ? targets : [...targets].reverse()) {
      const result = await load(target, SECONDS);
      results.get(target.name)!.push(result);
      console.log(`round ${round} ${target.name.padEnd(15)} ${result.requestsPerSecond.toFixed(0).padStart(7)} req/s  p50 ${result.p50Ms.toFixed(2)} ms  p99 ${result.p99Ms.toFixed(2)} ms  errors ${result.errors}  client CPU ${result.clientCpuPercent.toFixed(0)}%`);
    }
  }
  const summary = targets.map((t) => {
    const rounds = results.get(t.name)!;
    return { name: t.name, rps: median(rounds.map((r) => r.requestsPerSecond)), p50: median(rounds.map((r) => r.p50Ms)), p99: median(rounds.map((r) => r.p99Ms)), errors: rounds.reduce((s, r) => s + r.errors, 0) };
  });
  console.log('\n| server | req/s (median) | p50 ms | p99 ms | errors |\n|---|---|---|---|---|');
  for (const s of summary) console.log(`| ${s.name} | ${s.rps.toFixed(0)} | ${s.p50.toFixed(2)} | ${s.p99.toFixed(2)} | ${s.errors} |`);
  // Each round runs both back to back, so its ratio is the fairest single comparison on a noisy machine.
  const bare = results.get(targets[0]!.name)!;
  const isolane = results.get(targets[1]!.name)!;
  const perRound = isolane.map((r, i) => r.requestsPerSecond / bare[i]!.requestsPerSecond);
  console.log(`\nratio isolane / bare node:http: ${(summary[1]!.rps / summary[0]!.rps).toFixed(2)}x of the medians; per round ${perRound.map((r) => r.toFixed(2)).join(', ')} (median ${median(perRound).toFixed(2)}x)`);
} finally {
  for (const target of targets) target.child.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
}
