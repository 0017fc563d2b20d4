/**
 * Live tails over real HTTP: GET /v1/workers/:name/tail streams a worker's console lines and invocation
 * records as Server-Sent Events while requests run; the token is required; at most 10 per worker, and a
 * closed one frees its place; deleting the worker ends the stream.
 */
import t from 'tap';
import { request } from 'undici';
import { admin, deployScript, send, startServer, TOKEN, type TestServer } from '../helpers/server.ts';

const server = await startServer(t, { args: ['--executors', '1'] });

interface Tail {
  status: number;
  /** Resolves with the next event (name and parsed data), skipping comments. */
  next(timeoutMs?: number): Promise<{ event: string; data: any }>;
  close(): void;
}

async function openTail(server: TestServer, worker: string, token: string | null = TOKEN): Promise<Tail> {
  const abort = new AbortController();
  const res = await request(`${server.adminUrl}/v1/workers/${worker}/tail`, { headers: token === null ? {} : { authorization: `Bearer ${token}` }, signal: abort.signal });
  let buffered = '';
  const events: { event: string; data: any }[] = [];
  let wake: (() => void) | null = null;
  const decoder = new TextDecoder();
  res.body.on('data', (chunk: Buffer) => {
    buffered += decoder.decode(chunk, { stream: true });
    let end: number;
    while ((end = buffered.indexOf('\n\n')) >= 0) {
      const block = buffered.slice(0, end);
      buffered = buffered.slice(end + 2);
      const lines = block.split('\n').filter((l) => !l.startsWith(':'));
      if (lines.length === 0) continue;
      const event = lines.find((l) => l.startsWith('event: '))?.slice(7) ?? 'message';
      const data = lines.filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
      events.push({ event, data: JSON.parse(data) });
    }
    wake?.();
  });
  res.body.on('error', () => {});
  return {
    status: res.statusCode,
    async next(timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      while (events.length === 0) {
        if (Date.now() > deadline) throw new Error('no event in time');
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, 50);
        });
      }
      return events.shift()!;
    },
    close: () => abort.abort(),
  };
}

t.before(async () => {
  const res = await deployScript(server, 'chatty', `export default { fetch(request) { console.log('hello from', new URL(request.url).pathname); return new Response('ok') } }`);
  if (res.status !== 201) throw new Error(res.text);
});

t.test('console lines and invocation records arrive as they happen, in order', async (t) => {
  const tail = await openTail(server, 'chatty');
  t.teardown(() => tail.close());
  t.equal(tail.status, 200);
  const res = await send(server, 'chatty.localhost', '/first');
  t.equal(res.status, 200);
  const line = await tail.next();
  t.match(line, { event: 'console', data: { level: 'log', message: 'hello from /first' } });
  const record = await tail.next();
  t.match(record, { event: 'invocation', data: { worker: 'chatty', outcome: 'ok', status: 200, requestId: line.data.requestId } });
  await send(server, 'chatty.localhost', '/second');
  t.match(await tail.next(), { event: 'console', data: { message: 'hello from /second' } });
});

t.test('the token is required; an unknown worker is a 404', async (t) => {
  const anonymous = await openTail(server, 'chatty', null);
  t.equal(anonymous.status, 401);
  anonymous.close();
  const ghost = await openTail(server, 'ghost');
  t.equal(ghost.status, 404);
  ghost.close();
});

t.test('at most 10 tails per worker; closing one frees its place', async (t) => {
  const tails = await Promise.all(Array.from({ length: 10 }, () => openTail(server, 'chatty')));
  t.same(tails.map((tail) => tail.status), Array(10).fill(200));
  const refused = await admin(server, 'GET', '/v1/workers/chatty/tail');
  t.equal(refused.status, 429);
  t.equal(refused.json().error.code, 'ISO_ERR_TAIL_LIMIT');
  tails.pop()!.close();
  let again: Tail | null = null;
  for (let i = 0; i < 50 && again === null; i++) {
    const tail = await openTail(server, 'chatty');
    if (tail.status === 200) again = tail;
    else {
      tail.close();
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  t.ok(again, 'a new tail opens once one closed');
  again?.close();
  for (const tail of tails) tail.close();
});

t.test('deleting the worker ends its tails', async (t) => {
  t.equal((await deployScript(server, 'doomed', `export default { fetch() { return new Response('x') } }`)).status, 201);
  const tail = await openTail(server, 'doomed');
  t.teardown(() => tail.close());
  t.equal((await admin(server, 'DELETE', '/v1/workers/doomed')).status, 200);
  t.match(await tail.next(), { event: 'end', data: { reason: /deleted/ } });
});
