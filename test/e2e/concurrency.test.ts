/**
 * Many requests to one worker at once, over HTTP: requests read in the same turn enter the isolate
 * together (src/isolates/request-batches.ts), some wait on timers midway, some have a body (UTF-8 ones
 * join the batch as text, others enter alone). Each must get its own answer, its own invocation record
 * and its own console line.
 */
import t from 'tap';
import { deployScript, send, startServer } from '../helpers/server.ts';

const WORKER = `
export default {
  async fetch(request) {
    const path = new URL(request.url).pathname;
    const n = Number(path.slice(1));
    if (n % 7 === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    console.log('seen ' + path);
    const body = request.method === 'POST' ? new Uint8Array(await request.arrayBuffer()).join(',') : null;
    return Response.json({ path, header: request.headers.get('x-n'), body });
  },
};`;

t.test('concurrent requests each get their own answer, record and console line', async (t) => {
  // One serving process, so the requests meet in the same isolate.
  const server = await startServer(t, { env: { ISOLANE_EXECUTORS: '1' } });
  t.equal((await deployScript(server, 'echo', WORKER)).status, 201);
  const total = 3 * 60;
  for (let round = 0; round < 3; round++) {
    const replies = await Promise.all(
      Array.from({ length: 60 }, (_, i) => {
        const n = round * 60 + i;
        // Every third a JSON body with a non-ASCII character, every fifth bytes that are not UTF-8.
        const body = n % 3 === 1 ? new TextEncoder().encode(JSON.stringify({ n, s: 'é' })) : n % 5 === 2 ? new Uint8Array([0xff, n % 256]) : undefined;
        return send(server, 'echo.localhost', `/${n}`, { headers: { 'x-n': String(n) }, ...(body ? { method: 'POST', body } : {}) }).then((reply) => ({ n, reply, body }));
      }),
    );
    const wrong = replies.filter(({ n, reply, body }) => reply.status !== 200 || reply.text !== JSON.stringify({ path: `/${n}`, header: String(n), body: body ? body.join(',') : null }));
    t.same(wrong.map(({ n, reply }) => `${n}: ${reply.status} ${reply.text}`), [], `round ${round}: every answer is its own request's`);
  }
  await server.record((l) => server.logs.filter((x) => x.type === 'invocation' && x.worker === 'echo').length >= total, 10_000).catch(() => {});
  const records = server.logs.filter((l) => l.type === 'invocation' && l.worker === 'echo');
  t.equal(records.length, total, 'one record per request');
  t.same(records.filter((r) => r.outcome !== 'ok'), [], 'all ok');
  const lines = server.logs.filter((l) => l.type === 'console' && l.worker === 'echo');
  const ids = new Set(records.map((r) => r.requestId));
  t.equal(lines.length, total, 'one console line per request');
  t.equal(new Set(lines.map((l) => l.requestId)).size, total, 'each with a request id of its own');
  t.ok(lines.every((l) => ids.has(l.requestId)), 'every line belongs to a recorded invocation');
});
