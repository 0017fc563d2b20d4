/**
 * Whole response bodies that clients take slowly wait in the serving process, outside every isolate's
 * limit and after their invocations ended. A review had 150 clients read a 16 MB body 64 KB at a time
 * (never stalled, so never disconnected): 2.6 GB. A worker's clients now share one budget of unsent
 * bytes with its WebSockets (src/http/worker-backlogs.ts): past it, the worker's next body is a 503.
 */
import { connect, type Socket } from 'node:net';
import t from 'tap';
import { deployMultipart, send, startServer, type TestServer } from '../helpers/server.ts';

/** Room above the CPU limit: a 16 MiB body's copies take milliseconds, more on a loaded machine. */
function deploy(server: TestServer, name: string, source: string) {
  return deployMultipart(server, name, { main_module: 'main.js', limits: { cpu_ms: 1000 } }, { 'main.js': source });
}

const BODY_BYTES = 16 * 1024 * 1024;
const BIG = `const body = new Uint8Array(${BODY_BYTES}).fill(120); export default { fetch() { return new Response(body) } }`;

/** A client that sends a request and reads only its status line, then nothing more (status 0: closed before one). */
function stalledClient(port: number, host: string): Promise<{ status: number; code: string | null; socket: Socket }> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.on('error', () => {});
    socket.once('data', (chunk: Buffer) => {
      socket.pause();
      const text = chunk.toString('latin1');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]);
      resolve({ status, code: /"code":"([A-Z_]+)"/.exec(text)?.[1] ?? null, socket });
    });
    socket.once('close', () => resolve({ status: 0, code: null, socket }));
    socket.write(`GET / HTTP/1.1\r\nhost: ${host}\r\n\r\n`);
  });
}

t.test("a worker's slow readers share its budget: past it, 503; other workers are not affected", async (t) => {
  const server = await startServer(t, { args: ['--executors', '1'] });
  t.equal((await deploy(server, 'big', BIG)).status, 201);
  t.equal((await deploy(server, 'other', BIG)).status, 201);
  const port = Number(new URL(server.dataUrl).port);
  const clients: Socket[] = [];
  t.teardown(() => clients.forEach((socket) => socket.destroy()));
  const statuses: number[] = [];
  let refusal: string | null = null;
  for (let i = 0; i < 16; i++) {
    const { status, code, socket } = await stalledClient(port, 'big.localhost');
    clients.push(socket);
    statuses.push(status);
    if (status === 503) refusal = code;
  }
  const sent = statuses.filter((status) => status === 200).length;
  // The kernel takes a few MB of each body; the rest waits here. 64 MiB is at least 4 bodies' rest.
  t.ok(sent >= 4 && sent < 16, `${sent} of 16 bodies went out before the budget was spent`);
  t.ok(statuses.slice(sent).every((status) => status === 503), `then 503s (${statuses.join(' ')})`);
  t.equal(refusal, 'ISO_ERR_WORKER_OVERLOADED', 'with a JSON error');
  // Another worker's readers have a budget of their own.
  const other = await stalledClient(port, 'other.localhost');
  clients.push(other.socket);
  t.equal(other.status, 200, "another worker's body goes out");
  // Once the slow readers go, the worker's bodies go out again.
  for (const socket of clients.splice(0)) socket.destroy();
  await new Promise((resolve) => setTimeout(resolve, 200));
  const reply = await send(server, 'big.localhost');
  t.equal(reply.status, 200, 'served again once they left');
  t.equal(reply.text.length, BODY_BYTES);
  const shed = server.logs.filter((line) => line.type === 'invocation' && line.worker === 'big' && line.outcome === 'loadShed');
  t.equal(shed.length, 16 - sent, 'each refusal recorded as loadShed');
});

t.test("a streamed body's chunks count against the same budget: past it, the stream is cut", async (t) => {
  const server = await startServer(t, { args: ['--executors', '1'] });
  // Each chunk 16 MiB: the stream's high water mark holds back the next chunk, not this one.
  const STREAMER = `export default { fetch() {
    let sent = 0;
    return new Response(new ReadableStream({ pull(controller) { if (sent++ < 4) controller.enqueue(new Uint8Array(${BODY_BYTES})); else controller.close() } }));
  } }`;
  t.equal((await deploy(server, 'streamer', STREAMER)).status, 201);
  const port = Number(new URL(server.dataUrl).port);
  const clients: Socket[] = [];
  t.teardown(() => clients.forEach((socket) => socket.destroy()));
  const statuses: number[] = [];
  for (let i = 0; i < 16; i++) {
    const { status, socket } = await stalledClient(port, 'streamer.localhost');
    statuses.push(status);
    clients.push(socket);
  }
  // The ones cut end at once (their status may not have left yet: 0); the others wait for their readers.
  await new Promise((resolve) => setTimeout(resolve, 500));
  const records = server.logs.filter((line) => line.type === 'invocation' && line.worker === 'streamer');
  const cut = records.filter((line) => line.outcome === 'responseStreamDisconnected').length;
  t.ok(cut >= 6 && cut <= 13, `${cut} of 16 streams cut: the rest hold the worker's 64 MiB (statuses ${statuses.join(' ')})`);
  t.equal(records.length, cut, `the others are still sending (outcomes: ${records.map((line) => line.outcome).join(' ')})`);
});

t.test("one big body downloading slowly: the worker's small answers, small streams and WebSocket frames still go", async (t) => {
  const server = await startServer(t, { args: ['--executors', '1'] });
  const source = `
    const big = new Uint8Array(70 * 1024 * 1024).fill(98);
    export default {
      fetch(request) {
        const path = new URL(request.url).pathname;
        if (path === '/big') return new Response(big);
        if (path === '/empty') return new Response(null, { status: 204 });
        if (path === '/stream') return new Response(new ReadableStream({ start(c) { c.enqueue(new TextEncoder().encode('one,')); c.enqueue(new TextEncoder().encode('two')); c.close() } }));
        if (path === '/ws') {
          const { 0: client, 1: server } = new WebSocketPair();
          server.accept();
          server.addEventListener('message', (event) => server.send(event.data));
          return new Response(null, { status: 101, webSocket: client });
        }
        return new Response('ok');
      },
    };`;
  t.equal((await deployMultipart(server, 'mixed', { main_module: 'main.js', limits: { cpu_ms: 1000, memory_mb: 256 } }, { 'main.js': source })).status, 201);
  const port = Number(new URL(server.dataUrl).port);
  // A client that takes the status line of the 70 MiB body and nothing more: more than the worker's 64 MiB waits.
  const slow = await new Promise<Socket>((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.on('error', () => {});
    socket.once('data', () => {
      socket.pause();
      resolve(socket);
    });
    socket.write('GET /big HTTP/1.1\r\nhost: mixed.localhost\r\n\r\n');
  });
  t.teardown(() => slow.destroy());
  const small = await send(server, 'mixed.localhost', '/small');
  t.equal(small.status, 200, 'a small body goes');
  t.equal(small.text, 'ok');
  t.equal((await send(server, 'mixed.localhost', '/empty')).status, 204, 'an empty one too');
  const streamed = await send(server, 'mixed.localhost', '/stream');
  t.equal(streamed.text, 'one,two', 'a stream of small chunks is not cut');
  const { default: WebSocket } = await import('ws');
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, { headers: { host: 'mixed.localhost' } });
  await new Promise((resolve, reject) => ws.on('open', resolve).on('error', reject));
  const echoed = await new Promise<string>((resolve) => {
    ws.once('message', (data) => resolve(String(data)));
    ws.send('echo me');
  });
  t.equal(echoed, 'echo me', 'a WebSocket frame goes');
  ws.close();
  const records = server.logs.filter((line) => line.type === 'invocation' && line.worker === 'mixed' && line.outcome === 'loadShed');
  t.equal(records.length, 0, 'nothing was refused');
});
