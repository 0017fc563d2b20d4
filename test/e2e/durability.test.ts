/**
 * Durability through the real server: several workers get new versions deployed in a loop through the
 * admin API, the server is SIGKILLed at a random moment, restarted on the same data directory, and
 * every worker must serve either the last version whose deploy was acknowledged or the one in flight,
 * whole (the response names the version, and so does the text module it imports). The startup cleanup
 * pass (src/main.ts → FsStore.cleanup) must leave no temp file and no version file that its worker.json
 * does not list. (test/store/ kills a bare store mid-loop; this goes through HTTP, deploy and restart.)
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { admin, deployMultipart, send, startServer, type TestServer } from '../helpers/server.ts';

const WORKERS = ['d-alpha', 'd-beta', 'd-gamma'];
const ROUNDS = Number(process.env.DURABILITY_ROUNDS ?? 4);
const SEED = Number(process.env.DURABILITY_SEED ?? 7);
// Copies of "<worker> v<n>;" in the text module: ~200 KB, so a kill often lands mid-write of a version file.
const REPEATS = 14_000;

/** mulberry32: the kill moments are reproducible from the printed seed. */
function prng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}
const random = prng(SEED);

const dataDir = mkdtempSync(join(tmpdir(), 'isolane-durability-'));
t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));

function deployVersion(server: TestServer, worker: string, n: number) {
  const payload = `${worker} v${n};`.repeat(REPEATS);
  return deployMultipart(
    server,
    worker,
    { main_module: 'main.js', routes: [`${worker}.example.test/*`], bindings: [{ type: 'plain_text', name: 'VERSION', text: String(n) }] },
    {
      'main.js': `import payload from './payload.txt'; export default { fetch(request, env) { return new Response('${worker} v${n} env ' + env.VERSION + ' payload ' + payload.slice(0, payload.indexOf(';')) + ' ' + payload.length) } }`,
      'payload.txt': { content: payload, type: 'text/plain' },
    },
  );
}

/** Files under the data dir that the cleanup pass should remove: temp files and unlisted versions. */
function leftovers(): { temp: string[]; orphans: string[] } {
  const temp: string[] = [];
  const orphans: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(dir, e.name));
      else if (e.name.startsWith('.') && e.name.endsWith('.tmp')) temp.push(join(dir, e.name).slice(dataDir.length + 1));
    }
  };
  walk(dataDir);
  for (const worker of readdirSync(join(dataDir, 'workers'))) {
    let listed: string[] = [];
    try {
      listed = JSON.parse(readFileSync(join(dataDir, 'workers', worker, 'worker.json'), 'utf8')).versions;
    } catch {
      listed = [];
    }
    let files: string[] = [];
    try {
      files = readdirSync(join(dataDir, 'workers', worker, 'versions')).filter((f) => /^[0-9a-f]{20}\.json$/.test(f));
    } catch {
      files = [];
    }
    for (const f of files) if (!listed.includes(f.slice(0, -5))) orphans.push(`workers/${worker}/versions/${f}`);
  }
  return { temp, orphans };
}

/** Per worker: the last acknowledged version number and the one in flight when the server died. */
const acked = new Map<string, number>();
const inflight = new Map<string, number | null>();
let next = 1;
const freshWorkers: string[] = [];
const freshAcked = new Map<string, boolean>();

t.test(`SIGKILL during deploy loops, ${ROUNDS} rounds (seed ${SEED})`, async (t) => {
  t.comment(`kill moments from seed ${SEED} (DURABILITY_SEED / DURABILITY_ROUNDS to change)`);
  for (let round = 1; round <= ROUNDS + 1; round++) {
    const before = round === 1 ? { temp: [], orphans: [] } : leftovers();
    const server = await startServer(t, { dataDir, args: ['--executors', '1'] });
    const cleanup = server.logs.find((l) => l.type === 'store-cleanup');
    const removed = (cleanup?.removed as string[] | undefined) ?? [];
    if (round > 1) {
      t.comment(`round ${round - 1} left ${before.temp.length} temp files and ${before.orphans.length} unlisted version files; the startup cleanup removed ${removed.length}`);
      for (const file of [...before.temp, ...before.orphans]) t.ok(removed.includes(file), `cleanup removed ${file}`);
      const after = leftovers();
      t.same(after, { temp: [], orphans: [] }, 'nothing left over after the startup cleanup');

      // Every worker serves its acknowledged version or the one in flight, whole.
      for (const worker of WORKERS) {
        const reply = await send(server, `${worker}.localhost`);
        const m = /^(\S+) v(\d+) env (\d+) payload (\S+) v(\d+) (\d+)$/.exec(reply.text);
        t.ok(m, `${worker}: ${reply.status} ${reply.text.slice(0, 80)}`);
        if (!m) continue;
        const n = Number(m[2]);
        const allowed = [acked.get(worker), inflight.get(worker)].filter((v) => v !== undefined && v !== null);
        t.ok(allowed.includes(n), `${worker} serves v${n}: acknowledged v${acked.get(worker)}, in flight v${inflight.get(worker) ?? '-'}`);
        t.same([m[1], m[3], m[4], m[5]], [worker, String(n), worker, String(n)], `${worker} v${n}: main module, binding and text module agree`);
        t.equal(Number(m[6]), `${worker} v${n};`.length * REPEATS, 'the text module is whole');
        const routed = await send(server, `${worker}.example.test`);
        t.equal(routed.text, reply.text, `${worker}: its route survived`);
        const record = (await admin(server, 'GET', `/v1/workers/${worker}`)).json();
        t.equal(record.active?.bindings?.[0]?.name, 'VERSION', `${worker}: the admin API reads the active version`);
        // No dangling pointer: every version worker.json lists has its file, and the API lists them all.
        const files = readdirSync(join(dataDir, 'workers', worker, 'versions'));
        t.same(record.versions.filter((id: string) => !files.includes(`${id}.json`)), [], `${worker}: every listed version (${record.versions.length}) is on disk`);
        t.ok(record.versions.length <= 10 && record.versions[0] === record.activeVersion, `${worker}: the active version heads the kept list`);
        const listed = (await admin(server, 'GET', `/v1/workers/${worker}/versions`)).json();
        t.equal(listed.versions.length, record.versions.length, `${worker}: GET versions shows all ${record.versions.length}`);
        // The next deploys count on from what is served.
        acked.set(worker, n);
        inflight.set(worker, null);
      }
    }
    // The brand-new workers: whole (serving v1) or absent, with no directory left behind.
    for (const fresh of freshWorkers) {
      const record = await admin(server, 'GET', `/v1/workers/${fresh}`);
      const reply = await send(server, `${fresh}.localhost`);
      if (record.status === 200) {
        t.equal(reply.text, `${fresh} v1 env 1 payload ${fresh} v1 ${`${fresh} v1;`.length * REPEATS}`, `${fresh} exists and serves v1 whole`);
      } else {
        t.equal(record.status, 404, `${fresh} does not exist`);
        t.notOk(freshAcked.get(fresh), `${fresh}: its first deploy was not acknowledged`);
        t.equal(reply.status, 404, `${fresh} is not served`);
        t.notOk(readdirSync(join(dataDir, 'workers')).includes(fresh), `${fresh}: no directory left after the cleanup`);
      }
    }
    if (round > ROUNDS) {
      await server.stop();
      break;
    }

    // Deploy loops, one per worker, until the kill.
    let stop = false;
    let deploys = 0;
    let failedAfterKill = 0;
    const loops = WORKERS.map(async (worker) => {
      while (!stop) {
        const n = next++;
        inflight.set(worker, n);
        try {
          const res = await deployVersion(server, worker, n);
          if (res.status !== 200 && res.status !== 201) throw new Error(`deploy ${worker} v${n}: ${res.status} ${res.text}`);
          acked.set(worker, n);
          inflight.set(worker, null);
          deploys++;
        } catch (error) {
          if (!stop) throw error;
          failedAfterKill++;
          return;
        }
      }
    });
    const killAfter = round === 1 ? 800 : 150 + Math.floor(random() * 1500);
    // A brand-new worker whose first deploy starts just before the kill: afterwards it exists whole or not at all.
    const fresh = `d-fresh-${round}`;
    const freshStart = Math.max(0, killAfter - Math.floor(random() * 60));
    const freshDeploy = new Promise<void>((resolve) => setTimeout(resolve, freshStart)).then(() =>
      deployVersion(server, fresh, 1).then(
        (res) => (res.status === 201 ? 'acknowledged' : `answered ${res.status}`),
        () => 'cut',
      ),
    );
    freshWorkers.push(fresh);
    await new Promise((resolve) => setTimeout(resolve, killAfter));
    stop = true;
    await server.kill();
    const results = await Promise.allSettled(loops);
    for (const r of results) if (r.status === 'rejected') t.fail(String(r.reason));
    const freshResult = await freshDeploy;
    freshAcked.set(fresh, freshResult === 'acknowledged');
    t.comment(`round ${round}: SIGKILL after ${killAfter} ms, ${deploys} deploys acknowledged, ${failedAfterKill} cut by the kill; in flight: ${WORKERS.map((w) => `${w} v${inflight.get(w) ?? '-'}`).join(', ')}; first deploy of ${fresh}: ${freshResult}`);
  }
});
