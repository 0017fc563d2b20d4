/**
 * WebSockets over real connections, Workers' server API: the worker answers an upgrade with
 * `new Response(null, { status: 101, webSocket: client })` and talks on the server end of a
 * WebSocketPair. Text and binary frames both ways, closes from either side, the subprotocol and headers
 * of the 101, non-upgrade answers, the CPU limit per message, the message size limit, and the record.
 */
import t from 'tap';
import { WebSocket } from 'ws';
import { admin, deployScript, send, startServer } from '../helpers/server.ts';

const server = await startServer(t, { args: ['--executors', '1'] });
const wsUrl = server.dataUrl.replace('http:', 'ws:');

const ECHO = `export default {
  fetch(request) {
    if (request.headers.get('upgrade') !== 'websocket') return new Response('expected a websocket', { status: 426 });
    const { 0: client, 1: server } = new WebSocketPair();
    server.accept();
    server.send('welcome');
    server.addEventListener('message', (event) => {
      if (event.data === 'close') server.close(4000, 'bye');
      else if (event.data === 'spin') { for (;;) {} }
      else if (event.data === 'state') server.send(JSON.stringify([server.readyState, typeof WebSocket.OPEN, Object.keys(new WebSocketPair()), String(server)]));
      else if (typeof event.data === 'string') server.send('echo:' + event.data);
      else server.send(new Uint8Array(event.data).reverse());
    });
    server.addEventListener('close', (event) => console.log('closed', event.code, event.reason, event.wasClean));
    const protocol = request.headers.get('sec-websocket-protocol')?.split(',')[0]?.trim();
    return new Response(null, { status: 101, webSocket: client, headers: { 'x-hello': 'ws', ...(protocol ? { 'sec-websocket-protocol': protocol } : {}) } });
  },
};`;

interface Conn {
  ws: WebSocket;
  headers: Record<string, string | string[] | undefined>;
  next(): Promise<string | Buffer>;
  closed: Promise<{ code: number; reason: string }>;
}

function connect(host: string, protocols?: string[]): Promise<Conn> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${wsUrl}/chat`, protocols, { headers: { host }, maxPayload: 64 * 1024 * 1024 });
    const queue: (string | Buffer)[] = [];
    const waiting: ((value: string | Buffer) => void)[] = [];
    let headers: Conn['headers'] = {};
    ws.on('upgrade', (res) => (headers = res.headers));
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      const value = isBinary ? data : data.toString();
      const waiter = waiting.shift();
      if (waiter) waiter(value);
      else queue.push(value);
    });
    const closed = new Promise<{ code: number; reason: string }>((done) => ws.on('close', (code, reason) => done({ code, reason: reason.toString() })));
    ws.on('open', () =>
      resolve({ ws, headers, closed, next: () => (queue.length > 0 ? Promise.resolve(queue.shift()!) : new Promise((r) => waiting.push(r))) }),
    );
    ws.on('unexpected-response', (_req, res) => reject(Object.assign(new Error(`status ${res.statusCode}`), { status: res.statusCode })));
    ws.on('error', reject);
  });
}

t.before(async () => {
  for (const [name, source] of [
    ['echo', ECHO],
    ['always', `export default { fetch() { const p = new WebSocketPair(); p[1].accept(); return new Response(null, { status: 101, webSocket: p[0] }) } }`],
  ] as const) {
    const res = await deployScript(server, name, source);
    if (res.status !== 201) throw new Error(res.text);
  }
});

t.test('text and binary frames both ways; the client closes; one record for the connection', async (t) => {
  const conn = await connect('echo.localhost');
  t.equal(conn.headers['x-hello'], 'ws', "the worker's 101 headers reach the client");
  t.equal(await conn.next(), 'welcome', 'sent before the 101 went out, delivered after');
  conn.ws.send('hi');
  t.equal(await conn.next(), 'echo:hi');
  conn.ws.send(Buffer.from([1, 2, 3]));
  t.same([...((await conn.next()) as Buffer)], [3, 2, 1], 'binary frames stay binary');
  conn.ws.send('state');
  t.same(JSON.parse((await conn.next()) as string), [1, 'number', ['0', '1'], '[object WebSocket]']);
  conn.ws.close(1000, 'done');
  t.same(await conn.closed, { code: 1000, reason: 'done' });
  const record = await server.record((l) => l.type === 'invocation' && l.worker === 'echo' && l.status === 101);
  t.match(record, { outcome: 'ok', status: 101 });
  t.ok((record.bytesIn as number) >= 10 && (record.bytesOut as number) >= 20, 'message bytes are counted');
  const logs = (await admin(server, 'GET', '/v1/workers/echo/logs')).json().lines as { message: string }[];
  t.ok(logs.some((l) => l.message === 'closed 1000 done true'), "the worker's close listener ran");
});

t.test('the worker closes with its code and reason', async (t) => {
  const conn = await connect('echo.localhost');
  await conn.next();
  conn.ws.send('close');
  t.same(await conn.closed, { code: 4000, reason: 'bye' });
});

t.test("the worker picks the subprotocol among the client's", async (t) => {
  const conn = await connect('echo.localhost', ['chat.v2', 'chat.v1']);
  t.equal(conn.ws.protocol, 'chat.v2');
  conn.ws.close();
  await conn.closed;
});

t.test('a message that spins ends the connection with 1011; the CPU limit is per message', async (t) => {
  const conn = await connect('echo.localhost');
  await conn.next();
  // Many messages, each well within the limit: together more CPU than one invocation's 50 ms.
  for (let i = 0; i < 300; i++) {
    conn.ws.send(`m${i}`);
    t.equal(await conn.next(), `echo:m${i}`);
  }
  conn.ws.send('spin');
  t.equal((await conn.closed).code, 1011);
  t.match(await server.record((l) => l.type === 'invocation' && l.worker === 'echo' && l.outcome === 'exceededCpu'), { status: 101 });
  const again = await connect('echo.localhost');
  t.equal(await again.next(), 'welcome', 'a new connection works');
  again.ws.close();
  await again.closed;
});

t.test('a message over 1 MiB closes the socket with 1009', async (t) => {
  const conn = await connect('echo.localhost');
  await conn.next();
  conn.ws.send(Buffer.alloc(1024 * 1024 + 1));
  t.equal((await conn.closed).code, 1009);
});

t.test('upgrades answered otherwise, and WebSockets answering plain requests', async (t) => {
  const plain = await send(server, 'echo.localhost', '/chat');
  t.equal(plain.status, 426);
  t.equal(plain.text, 'expected a websocket');
  const wrong = await send(server, 'always.localhost', '/');
  t.equal(wrong.status, 500);
  t.match(wrong.json().error, { code: 'ISO_ERR_WORKER_EXCEPTION', message: /not a WebSocket upgrade/ });
  await t.rejects(connect('nobody.localhost'), { message: 'status 404' }, 'an upgrade for no worker is a 404');
  const ok = await connect('always.localhost');
  ok.ws.close();
  t.equal((await ok.closed).code, 1005, 'a close without a code');
});

t.test('a server shutting down tells its WebSocket clients 1001, and the worker sees the close', async (t) => {
  const conn = await connect('echo.localhost');
  await conn.next();
  const stopped = server.stop();
  t.same(await conn.closed, { code: 1001, reason: 'the server is shutting down' });
  await stopped;
  t.ok(server.logs.some((l) => l.type === 'console' && l.message === 'closed 1001 the server is shutting down true'), "the worker's close listener ran before the process exited");
  t.ok(server.logs.some((l) => l.type === 'stopped'), 'a clean stop');
});
