/**
 * Noisy neighbours: two good tenants under a closed loop (half the connections each), quiet, then while
 * ten hostile tenants are requested without pause (one connection each): five infinite loops (stopped at
 * their 50 ms CPU limit) and five memory bombs (stopped at their 128 MB memory limit). Quiet and noisy
 * rounds alternate, with two more phases that show which kind hurts: loops only, bombs only, and one with
 * two heavy workers instead (allowed 10 s of CPU, computing ~300 ms a request: not hostile, but CPU a busy
 * machine must share). The targets compare the all-10 phase with quiet. Target: good throughput at least 0.8x quiet, good p99 at most 2x quiet, no failed
 * good request.
 *
 *   npm run bench -- --only noisy-neighbours [--quick] [--rounds 3 --seconds 5] [--connections 16]
 *   node --no-node-snapshot bench/scenarios/noisy-neighbours.ts [--quick]
 */
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { startIsolane, type IsolaneServer } from '../lib/isolane-server.ts';
import { closedLoop, type LoadResult } from '../lib/load.ts';
import type { Chart, Scenario, ScenarioContext, ScenarioResult, Table, Target } from '../lib/types.ts';

const GOOD = ['good-a', 'good-b'];
const HOSTILE: { name: string; kind: string; source: string }[] = [
  ...Array.from({ length: 3 }, (_, i) => ({ name: `loop-${i}`, kind: 'infinite loop', source: `export default { fetch() { for (;;) {} } }` })),
  ...Array.from({ length: 2 }, (_, i) => ({ name: `loop-async-${i}`, kind: 'infinite loop after await', source: `export default { async fetch() { await null; let x = 0; while (true) x++; } }` })),
  ...Array.from({ length: 3 }, (_, i) => ({ name: `bomb-${i}`, kind: 'memory bomb (arrays)', source: `export default { fetch() { const keep = []; for (;;) keep.push(new Array(1e5).fill(1.5)); } }` })),
  ...Array.from({ length: 2 }, (_, i) => ({ name: `bomb-bytes-${i}`, kind: 'memory bomb (ArrayBuffers)', source: `export default { fetch() { const keep = []; for (;;) keep.push(new Uint8Array(1 << 20).fill(1)); } }` })),
];

/**
 * Not hostile: workers allowed 10 s of CPU that compute ~300 ms a request, as a batch job next to an API
 * would. They run on the offload threads (docs/ARCHITECTURE.md); a phase of their own shows what they
 * cost the good tenants. Not part of the targets, which are about the ten hostile tenants.
 */
const HEAVY: { name: string; kind: string; source: string; metadata: Record<string, unknown> }[] = Array.from({ length: 2 }, (_, i) => ({
  name: `heavy-${i}`,
  kind: 'heavy worker (cpu_ms 10,000), ~300 ms of CPU a request',
  source: `export default { fetch() { let x = 0; for (let i = 0; i < 3e8; i++) x = (x + i) | 0; return new Response(String(x)) } }`,
  metadata: { limits: { cpu_ms: 10_000 } },
}));

/** Every tenant but the good ones, for the table of what each kind runs. */
const NOT_GOOD = [...HOSTILE, ...HEAVY];

const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!;
const round = (n: number, d = 2) => Number(n.toFixed(d));

interface GoodRound {
  requestsPerSecond: number;
  p50: number;
  p99: number;
  errors: number;
  requests: number;
  clientCpu: number;
  errorSamples: string[];
}

async function goodLoad(server: IsolaneServer, connections: number, seconds: number): Promise<GoodRound> {
  const results: LoadResult[] = await Promise.all(GOOD.map((name) => closedLoop({ url: server.dataUrl, host: `${name}.localhost`, connections: Math.max(1, connections / GOOD.length), seconds })));
  return {
    requestsPerSecond: results.reduce((s, r) => s + r.requestsPerSecond, 0),
    // Percentiles of two loops cannot be merged exactly: the worse of the two (conservative).
    p50: Math.max(...results.map((r) => r.latencyMs.p50)),
    p99: Math.max(...results.map((r) => r.latencyMs.p99)),
    errors: results.reduce((s, r) => s + r.errors, 0),
    requests: results.reduce((s, r) => s + r.requests, 0),
    clientCpu: results.reduce((s, r) => s + r.clientCpuPercent, 0) / results.length,
    errorSamples: results.flatMap((r) => r.errorSamples ?? []),
  };
}

/** Keeps requesting every hostile tenant, one connection each, until stopped. */
function hostileLoad(server: IsolaneServer, tenants: { name: string }[]) {
  const pool = new Pool(server.dataUrl, { connections: tenants.length, keepAliveTimeout: 60_000 });
  const statuses: Record<string, number> = {};
  let stop = false;
  let sent = 0;
  const loops = tenants.map(async (h) => {
    while (!stop) {
      sent++;
      try {
        const res = await pool.request({ path: '/', method: 'GET', headers: { host: `${h.name}.localhost` } });
        await res.body.text();
        statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
      } catch {
        statuses.error = (statuses.error ?? 0) + 1;
        await new Promise((r) => setTimeout(r, 10));
      }
    }
  });
  return {
    async end() {
      stop = true;
      await Promise.all(loops);
      await pool.destroy();
      return { sent, statuses };
    },
  };
}

export const scenario: Scenario = {
  id: 'noisy-neighbours',
  title: 'Noisy neighbours: good tenants while 10 tenants run infinite loops and memory bombs',
  async run(ctx: ScenarioContext): Promise<ScenarioResult> {
    const { values } = parseArgs({ args: process.argv.slice(2), strict: false, options: { connections: { type: 'string' } } });
    const connections = Number(values.connections ?? 16);
    const server = await startIsolane({ collect: false });
    try {
      for (const name of GOOD) await server.deployModule(name, `export default { fetch(request) { return Response.json({ tenant: ${JSON.stringify(name)}, path: new URL(request.url).pathname }) } }`);
      for (const h of HOSTILE) await server.deployModule(h.name, h.source);
      for (const h of HEAVY) await server.deployModule(h.name, h.source, h.metadata);
      ctx.log('warm-up (quiet)');
      await goodLoad(server, connections, ctx.quick ? 1 : 2);

      const phases: { id: string; label: string; tenants: { name: string }[] }[] = [
        { id: 'quiet', label: 'quiet', tenants: [] },
        { id: 'loops', label: '5 infinite loops', tenants: HOSTILE.filter((h) => h.name.startsWith('loop')) },
        { id: 'bombs', label: '5 memory bombs', tenants: HOSTILE.filter((h) => h.name.startsWith('bomb')) },
        { id: 'all', label: 'all 10 hostile tenants', tenants: HOSTILE },
        { id: 'heavy', label: '2 heavy workers (not hostile)', tenants: HEAVY },
      ];
      const byPhase = new Map(phases.map((p) => [p.id, [] as GoodRound[]]));
      const hostileByPhase = new Map(phases.map((p) => [p.id, {} as Record<string, number>]));
      let hostileSent = 0;
      for (let r = 0; r < ctx.rounds; r++) {
        for (const phase of phases) {
          const hostile = phase.tenants.length ? hostileLoad(server, phase.tenants) : undefined;
          if (hostile) await new Promise((res) => setTimeout(res, 500)); // let the hostile tenants get going
          const g = await goodLoad(server, connections, ctx.seconds);
          byPhase.get(phase.id)!.push(g);
          let statuses = '';
          if (hostile) {
            const h = await hostile.end();
            hostileSent += h.sent;
            const into = hostileByPhase.get(phase.id)!;
            for (const [k, v] of Object.entries(h.statuses)) into[k] = (into[k] ?? 0) + v;
            statuses = `; hostile ${JSON.stringify(h.statuses)}`;
            await new Promise((res) => setTimeout(res, 500));
          }
          ctx.log(`round ${r + 1}, ${phase.label}: ${g.requestsPerSecond.toFixed(0)} req/s p99 ${g.p99.toFixed(2)} ms, ${g.errors} failed${statuses}`);
        }
      }
      const quiet = byPhase.get('quiet')!;
      const noisy = byPhase.get('all')!;
      const hostileStatuses = hostileByPhase.get('all')!;
      // How the good tenants' invocations ended, from the server's own usage figures (what a 503 was).
      const goodOutcomes: Record<string, number> = {};
      for (const name of GOOD) {
        const usage = (await server.admin('GET', `/v1/workers/${name}/usage?window=3600`)) as { outcomes?: Record<string, number> };
        for (const [k, v] of Object.entries(usage.outcomes ?? {})) goodOutcomes[k] = (goodOutcomes[k] ?? 0) + v;
      }
      const system = (await server.admin('GET', '/v1/system')) as { restarts: number; servingProcesses: { rssBytes: number }[] };

      const qRps = median(quiet.map((q) => q.requestsPerSecond));
      const nRps = median(noisy.map((q) => q.requestsPerSecond));
      const qP99 = median(quiet.map((q) => q.p99));
      const nP99 = median(noisy.map((q) => q.p99));
      const failed = noisy.reduce((s, q) => s + q.errors, 0);
      const tables: Table[] = [
        {
          title: `Good tenants (2 workers, ${connections} connections closed loop), ${ctx.rounds} alternating rounds × ${ctx.seconds} s`,
          columns: ['round', 'phase', 'req/s', 'p50 ms', 'p99 ms', 'failed', 'requests', 'client CPU %'],
          rows: quiet.flatMap((_, i) => phases.map((p) => {
            const g = byPhase.get(p.id)![i]!;
            return [i + 1, p.label, round(g.requestsPerSecond, 0), round(g.p50), round(g.p99), g.errors, g.requests, round(g.clientCpu, 0)];
          })),
        },
        {
          title: 'Medians by phase, relative to quiet',
          columns: ['phase', 'req/s', 'x quiet', 'p99 ms', 'x quiet', 'failed good', 'hostile answers'],
          rows: phases.map((p) => {
            const list = byPhase.get(p.id)!;
            const rps = median(list.map((g) => g.requestsPerSecond));
            const p99 = median(list.map((g) => g.p99));
            return [p.label, round(rps, 0), round(rps / qRps), round(p99), round(p99 / qP99), list.reduce((s, g) => s + g.errors, 0), JSON.stringify(hostileByPhase.get(p.id))];
          }),
        },
        {
          title: 'Hostile and heavy tenants (requested without pause, one connection each, during their phases)',
          columns: ['tenants', 'kind', 'source'],
          rows: [...new Set(NOT_GOOD.map((h) => h.kind))].map((kind) => [NOT_GOOD.filter((h) => h.kind === kind).length, kind, NOT_GOOD.find((h) => h.kind === kind)!.source]),
        },
      ];
      const targets: Target[] = [
        { name: 'good throughput, noisy / quiet (medians)', measured: round(nRps / qRps), unit: 'x', target: '>= 0.8x', met: nRps / qRps >= 0.8 },
        { name: 'good p99, noisy / quiet (medians)', measured: round(nP99 / qP99), unit: 'x', target: '<= 2x', met: nP99 / qP99 <= 2 },
        { name: 'failed good requests', measured: failed, unit: 'requests', target: '0', met: failed === 0 },
      ];
      const charts: Chart[] = [
        { kind: 'bars', title: 'Good tenants throughput (median)', unit: 'req/s', bars: [{ label: 'quiet', value: round(qRps, 0) }, { label: 'with 10 hostile tenants', value: round(nRps, 0) }] },
        { kind: 'bars', title: 'Good tenants p99 (median)', unit: 'ms', bars: [{ label: 'quiet', value: round(qP99) }, { label: 'with 10 hostile tenants', value: round(nP99) }] },
      ];
      const notes = [
        `Hostile requests sent over all noisy phases: ${hostileSent}; answers during the all-10 phases by status ${JSON.stringify(hostileStatuses)}. Serving-process restarts (crashes) over the run: ${system.restarts}. Good tenants' invocation outcomes over the whole run (usage API, warm-up included): ${JSON.stringify(goodOutcomes)}.`,
        ...(failed ? [`Failed good requests, first messages: ${[...byPhase.values()].flat().flatMap((q) => q.errorSamples).slice(0, 5).join('; ')}.`] : []),
        'p99 of the two good tenants is the worse of their two loops (percentiles of separate loops are not merged).',
        'Load generator, good and hostile tenants share the 2 cores; the client CPU % is the harness process.',
      ];
      return { id: 'noisy-neighbours', title: this.title, command: 'npm run bench -- --only noisy-neighbours' + (ctx.quick ? ' --quick' : ''), tables, targets, charts, notes };
    } finally {
      await server.stop().catch(() => {});
    }
  },
};

if (import.meta.main) {
  const quick = process.argv.includes('--quick');
  const result = await scenario.run({ quick, rounds: quick ? 1 : 3, seconds: quick ? 2 : 5, log: (line) => console.error(line) });
  console.log(JSON.stringify(result, null, 2));
}
