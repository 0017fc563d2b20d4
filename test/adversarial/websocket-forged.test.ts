/**
 * A worker that tampers with its own runtime can hand the host's bridge anything; the host checks what
 * reaches the data plane. Found by a review: a close code the runtime's close() refuses, slipped through
 * its queue of frames sent before the 101 (an Array.prototype setter), made the data plane's ws throw and
 * ended the serving process with every tenant's requests in it. And a WebSocket's work after its close
 * (waitUntil) had no time limit: invocations that waited on nothing piled up for good.
 */
import t from 'tap';
import WebSocket from 'ws';
import { admin, deployMultipart, deployScript, send, startServer, type TestServer } from '../helpers/server.ts';

/** Queues a frame before the 101, and swaps it for a close with code 1005 (not sendable) as the runtime stores it. */
const FORGER = `export default {
  fetch() {
    const { 0: client, 1: server } = new WebSocketPair();
    server.accept();
    Object.defineProperty(Array.prototype, '0', { configurable: true, set(value) {
      Object.defineProperty(this, '0', { value: [1005, 'forged'], writable: true, enumerable: true, configurable: true });
    } });
    try { server.send('hello') } finally { delete Array.prototype[0] }
    return new Response(null, { status: 101, webSocket: client });
  },
};`;

const HELLO = `export default { fetch() { return new Response('still here') } }`;

async function restarts(server: TestServer): Promise<number> {
  return (await admin(server, 'GET', '/v1/system')).json<{ restarts: number }>().restarts;
}

function open(server: TestServer, host: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${server.dataUrl.replace('http:', 'ws:')}/`, { headers: { host } });
    ws.on('open', () => resolve(ws));
    ws.on('error', reject);
  });
}

t.test('a forged close code closes the socket with 1011, and the serving process stays up', async (t) => {
  const server = await startServer(t, { args: ['--executors', '1'] });
  t.equal((await deployScript(server, 'forger', FORGER)).status, 201);
  t.equal((await deployScript(server, 'hello', HELLO)).status, 201);
  for (let i = 0; i < 3; i++) {
    const ws = await open(server, 'forger.localhost');
    const closed = await new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
    t.equal(closed, 1011, `socket ${i + 1} closed as an internal error, not with the forged code`);
  }
  const reply = await send(server, 'hello.localhost');
  t.equal(reply.status, 200, "another tenant's request is served");
  t.equal(reply.text, 'still here');
  t.equal(await restarts(server), 0, 'no serving process was lost');
});

t.test("work after a WebSocket's close ends at the worker's wall-time limit, counted from the close", async (t) => {
  const server = await startServer(t, { args: ['--executors', '1'] });
  const source = `export default {
    fetch(request, env, ctx) {
      const { 0: client, 1: server } = new WebSocketPair();
      server.accept();
      ctx.waitUntil(new Promise(() => {}));
      return new Response(null, { status: 101, webSocket: client });
    },
  };`;
  t.equal((await deployMultipart(server, 'lingers', { main_module: 'main.js', limits: { wall_ms: 500 } }, { 'main.js': source })).status, 201);
  const ws = await open(server, 'lingers.localhost');
  // Open longer than the wall-time limit: a socket has none while it is open.
  await new Promise((resolve) => setTimeout(resolve, 800));
  const records = () => server.logs.filter((line) => line.type === 'invocation' && line.worker === 'lingers');
  t.equal(records().length, 0, 'the invocation lives while its socket is open');
  const closedAt = Date.now();
  ws.close(1000);
  const deadline = Date.now() + 5000;
  while (records().length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  const [record] = records();
  t.ok(record, 'and ends after the close');
  t.equal(record?.outcome, 'exceededWallTime', 'cut off at the limit, as a request that waits too long is');
  const after = Date.now() - closedAt;
  t.ok(after >= 450 && after < 3000, `${after} ms after the close`);
});
