/**
 * WebSocket clients that stop reading: what the worker sent them waits in the serving process, outside
 * every isolate's memory limit. A worker's clients may leave 64 MiB unsent in all, and a client that takes
 * none of its backlog for --send-stall-ms is disconnected (src/http/data-plane.ts).
 */
import t from 'tap';
import WebSocket from 'ws';
import { deployScript, startServer } from '../helpers/server.ts';

const FLOODER = `export default {
  fetch() {
    const { 0: client, 1: server } = new WebSocketPair();
    server.accept();
    server.addEventListener('message', () => { for (let i = 0; i < 15; i++) server.send(new Uint8Array(1024 * 1024)) });
    return new Response(null, { status: 101, webSocket: client });
  },
};`;

t.test("clients that stop reading are disconnected past the worker's share, and after the send stall", async (t) => {
  const server = await startServer(t, { args: ['--executors', '1', '--send-stall-ms', '1500'] });
  t.equal((await deployScript(server, 'flooder', FLOODER)).status, 201);
  const wsUrl = server.dataUrl.replace('http:', 'ws:');
  const clients: WebSocket[] = [];
  for (let i = 0; i < 8; i++) {
    const ws = await new Promise<WebSocket>((resolve, reject) => {
      const ws = new WebSocket(`${wsUrl}/`, { headers: { host: 'flooder.localhost' } });
      ws.on('open', () => resolve(ws));
      ws.on('error', reject);
    });
    ws.on('error', () => {});
    // The client reads nothing more: 15 MiB each waits on the server's side.
    (ws as unknown as { _socket: { pause(): void } })._socket.pause();
    ws.send('go');
    clients.push(ws);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  // A paused client does not see its socket close: the server's record of each connection says it ended.
  const ended = () => server.logs.filter((line) => line.type === 'invocation' && line.worker === 'flooder').length;
  await new Promise((resolve) => setTimeout(resolve, 300));
  const early = ended();
  t.ok(early >= 2 && early < 8, `${early} of 8 disconnected at once: those past the worker's 64 MiB`);
  await new Promise((resolve) => setTimeout(resolve, 4000));
  t.equal(ended(), 8, 'and the rest once they took nothing for the send stall');
  for (const ws of clients) ws.terminate();
});
