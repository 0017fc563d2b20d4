/**
 * A fetch's whole request body is a copy the host holds until the fetch is answered, outside the
 * isolate's memory limit: a review POSTed one 8 MB buffer 128 times to an upstream that never read
 * (1.2 GB of the serving process for 30 s). A worker's held bytes now have a share
 * (src/limits/host-held-bytes.ts): past 64 MiB the next fetch fails with a TypeError, and what is held
 * is given back as fetches are answered.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { HostHeldBytes } from '../../src/limits/host-held-bytes.ts';
import { deployMultipart, send, startServer } from '../helpers/server.ts';

t.test('HostHeldBytes: a share per worker, given back', async (t) => {
  const held = new HostHeldBytes(100);
  t.ok(held.hold('a', 60));
  t.notOk(held.hold('a', 50), 'past the share: refused');
  t.equal(held.heldBy('a'), 60, 'and nothing of it held');
  t.ok(held.hold('b', 100), 'another worker has its own');
  held.release('a', 60);
  t.equal(held.heldBy('a'), 0);
  t.ok(held.hold('a', 100), 'given back');
  t.ok(held.hold('a', 0), 'nothing is always allowed');
  t.ok(held.hold('c', 150), 'one body bigger than the share goes while the worker holds nothing else');
  t.notOk(held.hold('c', 1), 'and then nothing more');
});

t.test("a worker's fetch bodies waiting on a slow upstream: past its share, fetch fails; later ones go once answered", async (t) => {
  // Takes each request but answers only when told: the bodies wait in the host meanwhile.
  const waiting: ServerResponse[] = [];
  const upstream = createServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    if (req.url === '/slow') waiting.push(res);
    else res.end('fast');
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    for (const res of waiting) res.destroy();
    upstream.close();
  });
  const base = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  const server = await startServer(t, { args: ['--executors', '1'] });
  // Six at once (the subrequest concurrency), 8 MiB each, four requests: 192 MiB asked of a 64 MiB share.
  const source = `
    const body = new Uint8Array(8 * 1024 * 1024).fill(1);
    export default {
      async fetch(request) {
        if (new URL(request.url).pathname === '/fast') return new Response(await (await fetch('${base}/fast', { method: 'POST', body })).text());
        // Six fetches, each told apart by how it has settled 2 s later (the upstream answers none). The four
        // requests must overlap for their holds to add up: with 500 ms, a CI run under load started some
        // after others had ended and given their bodies back (10 of 24 refused, not 16).
        const states = Array.from({ length: 6 }, () => 'pending');
        Array.from({ length: 6 }, (_, i) => fetch('${base}/slow', { method: 'POST', body }).then(() => (states[i] = 'ok'), (err) => (states[i] = err.constructor.name + ': ' + err.message)));
        await new Promise((resolve) => setTimeout(resolve, 2000));
        return new Response(states.join('\\n'));
      },
    };`;
  t.equal((await deployMultipart(server, 'poster', { main_module: 'main.js', fetch_allow: ['127.0.0.1'], limits: { cpu_ms: 1000 } }, { 'main.js': source })).status, 201);
  const replies = await Promise.all(Array.from({ length: 4 }, () => send(server, 'poster.localhost', '/slow')));
  const lines = replies.flatMap((reply) => reply.text.split('\n'));
  const refused = lines.filter((line) => line.includes('would pass 64 MiB'));
  t.ok(refused.length >= 24 - 8, `${refused.length} of 24 fetches refused: at most 8 bodies of 8 MiB held at once (${JSON.stringify([...new Set(lines)])})`);
  t.ok(refused.every((line) => line.startsWith('TypeError: fetch failed')), 'as a TypeError');
  // The slow ones were abandoned when their invocations ended: their bodies were given back.
  const fast = await send(server, 'poster.localhost', '/fast');
  t.equal(fast.text, 'fast', 'a fetch with a body goes again once the held ones are given back');
});
