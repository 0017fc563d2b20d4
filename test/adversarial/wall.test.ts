/**
 * Hostile wall-time users uploaded through the admin API (with a short `limits.wall_ms` in the upload
 * metadata) while two good workers on other hosts serve a steady load: each ends exceededWallTime, 504
 * when nothing was sent yet, and no good request fails.
 */
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { Arena, finishArena, runHostile, type HostileCase } from '../helpers/arena.ts';
import type { LogLine } from '../helpers/server.ts';

// An upstream that accepts requests and never answers them.
const held: ServerResponse[] = [];
const upstream = createServer((_req, res) => void held.push(res));
await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
t.teardown(() => {
  for (const res of held) res.destroy();
  upstream.close();
});
const upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/`;

const arena = await Arena.start(t);
const WALL_MS = 300;
const wall = { limits: { wall_ms: WALL_MS } };
const TIMED_OUT = { status: 504, outcome: 'exceededWallTime', code: 'ISO_ERR_WORKER_EXCEEDED_WALL' } as const;
const endedNearTheLimit = (t: Parameters<NonNullable<HostileCase['check']>>[0], record: LogLine | null) => {
  const ms = record?.wallMs as number;
  t.ok(ms >= WALL_MS - 10 && ms < WALL_MS + 1000, `ended after ${ms} ms at a ${WALL_MS} ms limit`);
};

const cases: HostileCase[] = [
  {
    title: 'a promise that never resolves',
    name: 'w-hang',
    source: `export default { fetch() { return new Promise(() => {}) } }`,
    metadata: wall,
    ...TIMED_OUT,
    check: (t, _r, record) => endedNearTheLimit(t, record),
  },
  {
    title: 'an endless setInterval',
    name: 'w-interval',
    source: `export default { fetch() { let n = 0; setInterval(() => { n++ }, 1); return new Promise(() => {}) } }`,
    metadata: wall,
    ...TIMED_OUT,
    check: (t, _r, record) => endedNearTheLimit(t, record),
  },
  {
    title: 'an endless setInterval that keeps re-arming timeouts',
    name: 'w-rearm',
    source: `export default { fetch() { const again = () => setTimeout(again, 0); again(); setInterval(() => {}, 0); return new Promise(() => {}) } }`,
    metadata: wall,
    ...TIMED_OUT,
    check: (t, _r, record) => endedNearTheLimit(t, record),
  },
  {
    title: 'an endless setInterval in waitUntil after the response',
    name: 'w-interval-after',
    source: `export default { fetch(req, env, ctx) { ctx.waitUntil(new Promise(() => { setInterval(() => {}, 1) })); return new Response('sent') } }`,
    metadata: wall,
    status: 200,
    outcome: 'exceededWallTime',
    check(t, reply, record) {
      t.equal(reply.text, 'sent', 'the response went out; waitUntil is cut at the wall limit');
      endedNearTheLimit(t, record);
    },
  },
  {
    title: 'a body stream that never ends',
    name: 'w-stream',
    source: `export default { fetch() { return new Response(new ReadableStream({ start(c) { c.enqueue(new TextEncoder().encode('first chunk')) } })) } }`,
    metadata: wall,
    // The status went out with the first chunk; the wall limit cuts the response short.
    status: [200, 504],
    clientError: /other side closed|ECONNRESET|terminated/i,
    outcome: 'exceededWallTime',
  },
  {
    title: 'awaiting a subrequest that never answers',
    name: 'w-upstream',
    source: `export default { async fetch() { const res = await fetch('${upstreamUrl}'); return new Response(await res.text()) } }`,
    metadata: { ...wall, fetch_allow: ['127.0.0.1'] },
    ...TIMED_OUT,
    check: (t, _r, record) => endedNearTheLimit(t, record),
  },
];

// Cases that do not test the CPU limit get room above it, so that each ends by the limit it tests.
for (const c of cases) {
  c.metadata = { ...c.metadata, limits: { cpu_ms: 1_000, ...((c.metadata?.limits as object | undefined) ?? {}) } };
}

for (const c of cases) t.test(`wall: ${c.title}`, (t) => runHostile(t, arena, c));

t.test('good tenants under load saw zero failures', (t) => finishArena(t, arena, cases.filter((c) => c.bug).map((c) => c.title)));
