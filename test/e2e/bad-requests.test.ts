/**
 * Bad input on the data plane: every refusal is a 4xx with a JSON body naming the problem, whatever part
 * of the request is wrong, and the server keeps serving.
 */
import { connect } from 'node:net';
import t from 'tap';
import { deployScript, send, startServer, admin } from '../helpers/server.ts';

const server = await startServer(t, { args: ['--headers-timeout-ms', '1000'] });
await deployScript(server, 'fine', `export default { fetch(request) { return new Response('fine ' + new URL(request.url).pathname.length) } }`);

/** Sends `raw` bytes on a fresh connection and returns everything the server answers until it closes. */
function exchange(raw: string | Buffer, waitMs = 3000): Promise<string> {
  const { port } = new URL(server.dataUrl);
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port: Number(port) });
    let received = '';
    socket.on('data', (chunk) => (received += chunk.toString('latin1')));
    socket.on('error', () => {});
    socket.on('close', () => resolve(received));
    socket.write(raw);
    setTimeout(() => socket.destroy(), waitMs).unref();
  });
}

function statusAndCode(answer: string): [number, string | undefined] {
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1]);
  const body = answer.slice(answer.indexOf('\r\n\r\n') + 4);
  let code: string | undefined;
  try {
    code = JSON.parse(body).error?.code;
  } catch {}
  return [status, code];
}

t.test('malformed requests: 400 with a JSON body', async (t) => {
  for (const raw of ['GARBAGE\r\n\r\n', 'GET / HTTP/1.1\r\nhost: fine.localhost\r\nbad header line\r\n\r\n', 'GET / HTTP/9.9\r\nhost: fine.localhost\r\n\r\n', 'GET / HTTP/1.1\r\nhost: fine.localhost\r\ncontent-length: x\r\n\r\n']) {
    const [status, code] = statusAndCode(await exchange(raw));
    t.equal(status, 400, JSON.stringify(raw));
    t.equal(code, 'ISO_ERR_HTTP_BAD_REQUEST');
  }
});

t.test('headers over 16 KiB: 431', async (t) => {
  const [status, code] = statusAndCode(await exchange(`GET / HTTP/1.1\r\nhost: fine.localhost\r\nx-big: ${'a'.repeat(20_000)}\r\n\r\n`));
  t.equal(status, 431);
  t.equal(code, 'ISO_ERR_HTTP_HEADERS_TOO_LARGE');
});

t.test('a client too slow to send its headers (slowloris): 408, then the connection closes', async (t) => {
  const started = performance.now();
  const { port } = new URL(server.dataUrl);
  const answer = await new Promise<string>((resolve) => {
    const socket = connect({ host: '127.0.0.1', port: Number(port) });
    let received = '';
    socket.on('data', (chunk) => (received += chunk.toString('latin1')));
    socket.on('close', () => resolve(received));
    socket.on('error', () => {});
    socket.write('GET / HTTP/1.1\r\nhost: fine.localhost\r\n');
    // One header byte every 200 ms, forever: never the blank line.
    const drip = setInterval(() => socket.writable && socket.write('x'), 200);
    socket.on('close', () => clearInterval(drip));
    setTimeout(() => socket.destroy(), 10_000).unref();
  });
  const elapsed = performance.now() - started;
  const [status, code] = statusAndCode(answer);
  t.equal(status, 408);
  t.equal(code, 'ISO_ERR_HTTP_TIMEOUT');
  t.ok(elapsed < 5000, `closed after ${elapsed.toFixed(0)} ms (headers timeout 1 s)`);
});

t.test('Host: missing, malformed, unknown; absurd URLs; deleted workers', async (t) => {
  const [noHost, noHostCode] = statusAndCode(await exchange('GET / HTTP/1.1\r\n\r\n'));
  t.equal(noHost, 400);
  t.equal(noHostCode, 'ISO_ERR_HTTP_HOST_MISSING');
  for (const host of ['not a host', '[::1', 'ünïcode.example', 'a'.repeat(300)]) {
    const [status, code] = statusAndCode(await exchange(`GET / HTTP/1.1\r\nhost: ${host}\r\n\r\n`));
    t.ok(status === 400 || status === 404, `${JSON.stringify(host.slice(0, 20))}: ${status}`);
    t.ok(code === 'ISO_ERR_ROUTE_NOT_FOUND' || code === 'ISO_ERR_HTTP_BAD_REQUEST', `with a JSON code (${code})`);
  }
  const long = await send(server, 'fine.localhost', `/${'p'.repeat(8000)}`);
  t.equal(long.text, 'fine 8001', 'an 8 KB path is served');
  for (const target of ['/%00%ff%', '/..%2f..%2fetc/passwd', '//double//slashes', '/?' + '&a=1'.repeat(1000)]) {
    const answer = await exchange(`GET ${target} HTTP/1.1\r\nhost: fine.localhost\r\nconnection: close\r\n\r\n`);
    t.match(answer, /^HTTP\/1\.1 200 /, `${target.slice(0, 30)} is handed to the worker as it is`);
  }
  const [star] = statusAndCode(await exchange('OPTIONS * HTTP/1.1\r\nhost: fine.localhost\r\nconnection: close\r\n\r\n'));
  t.ok(star < 500, `OPTIONS * answered ${star}`);
  await admin(server, 'DELETE', '/v1/workers/fine');
  const gone = await send(server, 'fine.localhost');
  t.equal(gone.status, 404);
  t.equal(gone.json().error.code, 'ISO_ERR_ROUTE_NOT_FOUND');
});

t.test('after all that the server still serves', async (t) => {
  await deployScript(server, 'after', `export default { fetch() { return new Response('still here') } }`);
  t.equal((await send(server, 'after.localhost')).text, 'still here');
});
