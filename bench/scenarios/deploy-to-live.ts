/**
 * Deploy to live: time from the start of the upload (admin PUT) to the first request served by the new
 * version. While each redeploy is uploaded, two loops poll the data plane (one keep-alive connection
 * each, so both serving processes are watched; ~1 ms between polls) for the new version's body. Also
 * reported: when the PUT answered (by then every serving process serves the new version).
 *
 *   npm run bench -- --only deploy-to-live [--quick]
 *   node --no-node-snapshot bench/scenarios/deploy-to-live.ts [--quick]
 */
import { Client } from 'undici';
import { startIsolane, type IsolaneServer } from '../lib/isolane-server.ts';
import { percentiles } from '../lib/load.ts';
import type { Chart, Scenario, ScenarioContext, ScenarioResult, Target } from '../lib/types.ts';
import { bundleHonoApp } from './cold-start.ts';

const round = (n: number, d = 1) => Number(n.toFixed(d));

export const scenario: Scenario = {
  id: 'deploy-to-live',
  title: 'Deploy to live: upload start → first request served by the new version',
  async run(ctx: ScenarioContext): Promise<ScenarioResult> {
    const redeploys = ctx.quick ? 10 : 30;
    const hono = await bundleHonoApp();
    const kinds = [
      { id: 'tiny', label: 'tiny worker', source: (v: string) => `export default { fetch() { return new Response(${JSON.stringify(v)}) } }` },
      { id: 'hono', label: `Hono app (~${Math.round(Buffer.byteLength(hono) / 1024)} KB)`, source: (v: string) => `globalThis.BENCH_VERSION = ${JSON.stringify(v)};\n${hono}` },
    ];
    let server: IsolaneServer | undefined;
    const clients = [0, 1].map(() => undefined as Client | undefined);
    try {
      server = await startIsolane({ collect: false });
      const live = server;
      const rows: (string | number)[][] = [];
      const targets: Target[] = [];
      const charts: Chart[] = [];
      const notes: string[] = [];
      let stale = 0;
      for (const kind of kinds) {
        const name = `live-${kind.id}`;
        await live.deployModule(name, kind.source(`${name} v0`));
        for (let c = 0; c < clients.length; c++) {
          await clients[c]?.close();
          // Opened one after the other: the primary hands connections to the serving processes in turn.
          clients[c] = new Client(live.dataUrl, { keepAliveTimeout: 60_000 });
          const res = await clients[c]!.request({ path: '/', method: 'GET', headers: { host: `${name}.localhost` } });
          await res.body.text();
        }
        const toLive: number[] = [];
        const toAnswer: number[] = [];
        for (let k = 1; k <= redeploys; k++) {
          const version = `${name} v${k}`;
          let seen = NaN;
          let stop = false;
          const started = performance.now();
          const poll = async (client: Client) => {
            while (!stop) {
              const res = await client.request({ path: '/', method: 'GET', headers: { host: `${name}.localhost` } });
              const body = await res.body.text();
              if (body.includes(version) && res.statusCode === 200) {
                if (Number.isNaN(seen)) seen = performance.now() - started;
                return;
              }
              await new Promise((r) => setTimeout(r, 1));
            }
          };
          const polls = clients.map((c) => poll(c!));
          await live.deployModule(name, kind.source(version));
          const answered = performance.now() - started;
          // Once the PUT answered, every process serves the new version: the next poll must see it.
          const deadline = setTimeout(() => (stop = true), 2000);
          await Promise.all(polls);
          clearTimeout(deadline);
          if (Number.isNaN(seen)) stale++;
          toLive.push(seen);
          toAnswer.push(answered);
        }
        const l = percentiles(toLive.filter((v) => !Number.isNaN(v)));
        const a = percentiles(toAnswer);
        rows.push([kind.label, redeploys, round(l.p50), round(l.p90), round(l.max), round(a.p50), round(a.p90), round(a.max)]);
        targets.push({ name: `${kind.label}: upload start → first request served by the new version, p50`, measured: round(l.p50), unit: 'ms', target: '< 50 ms', met: l.p50 < 50 });
        charts.push({ kind: 'lines', title: `Deploy to live, ${kind.label}, per redeploy`, xLabel: 'redeploy', unit: 'ms', series: [{ label: 'first request served by it', points: toLive.map((v, i) => [i + 1, round(v, 2)]) }, { label: 'PUT answered', points: toAnswer.map((v, i) => [i + 1, round(v, 2)]) }] });
        ctx.log(`${kind.label}: live p50 ${l.p50.toFixed(1)} ms, PUT answered p50 ${a.p50.toFixed(1)} ms`);
      }
      if (stale) notes.push(`${stale} redeploys were not seen on the data plane within 2 s of the PUT answering.`);
      notes.push('Each redeploy uploads a new version of the same worker (a single ES module, Content-Type application/javascript+module) while the old one is being served; the admin API validates, builds the version in one serving process, warms it in the other, stores it (fsync) and switches.');
      notes.push('Polls: two keep-alive connections (one per serving process), a request each ~1 ms; "first request served" is the client time the first response with the new body arrived.');
      return {
        id: 'deploy-to-live',
        title: this.title,
        command: 'npm run bench -- --only deploy-to-live' + (ctx.quick ? ' --quick' : ''),
        tables: [{ title: 'Upload start → live, ms', columns: ['worker', 'redeploys', 'first request served p50', 'p90', 'max', 'PUT answered p50', 'p90', 'max'], rows }],
        targets,
        charts,
        notes,
      };
    } finally {
      for (const c of clients) await c?.close().catch(() => {});
      await server?.stop().catch(() => {});
    }
  },
};

if (import.meta.main) {
  const quick = process.argv.includes('--quick');
  const result = await scenario.run({ quick, rounds: 1, seconds: quick ? 2 : 5, log: (line) => console.error(line) });
  console.log(JSON.stringify(result, null, 2));
}
