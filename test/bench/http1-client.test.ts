/**
 * The benchmark's open-loop HTTP/1.1 client (bench/lib/http1-client.ts): its response parser on the
 * shapes servers send, split at every byte boundary, and its pool against a real node:http server
 * (Content-Length, chunked and empty bodies, Connection: close, a server that is not there).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { encodeRequest, Http1Pool, ResponseParser, type Outcome } from '../../bench/lib/http1-client.ts';

const responses = [
  'HTTP/1.1 200 OK\r\ncontent-length: 12\r\n\r\nHello World!',
  'HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 0\r\n\r\n',
  'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nHello\r\n1; ext=1\r\n \r\n6\r\nWorld!\r\n0\r\n\r\n',
  'HTTP/1.1 204 No Content\r\ndate: x\r\n\r\n',
  'HTTP/1.1 500 Internal Server Error\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nx-trailer: 1\r\n\r\n',
  'HTTP/1.1 304 Not Modified\r\ncontent-length: 99\r\n\r\n',
  'HTTP/1.0 201 Created\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc',
];
const stream = Buffer.from(responses.join(''), 'latin1');
const statuses = [200, 404, 200, 204, 500, 304, 201];

t.test('the parser finds every response, in one buffer or split anywhere', async (t) => {
  t.same(new ResponseParser().feed(stream), statuses, 'one buffer');
  for (let cut = 1; cut < stream.length; cut++) {
    const parser = new ResponseParser();
    const got = [...parser.feed(stream.subarray(0, cut)), ...parser.feed(stream.subarray(cut))];
    if (got.join() !== statuses.join()) {
      t.fail(`split at byte ${cut}: ${got.join()}`);
      return;
    }
  }
  const parser = new ResponseParser();
  const byteByByte: number[] = [];
  for (let i = 0; i < stream.length; i++) byteByByte.push(...parser.feed(stream.subarray(i, i + 1)));
  t.same(byteByByte, statuses, 'one byte at a time');
  t.equal(parser.closeAfter, true, 'the last response asked to close the connection');
});

t.test('the parser refuses what is not HTTP/1.1', async (t) => {
  t.throws(() => new ResponseParser().feed(Buffer.from('SSH-2.0-OpenSSH\r\n\r\n')), /status line/);
  t.throws(() => new ResponseParser().feed(Buffer.from('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n')), /chunk size/);
});

t.test('requests are encoded with Host, headers and a body length', async (t) => {
  t.equal(encodeRequest({ host: 'a.localhost' }).toString(), 'GET / HTTP/1.1\r\nhost: a.localhost\r\n\r\n');
  t.equal(
    encodeRequest({ method: 'POST', path: '/p?q=1', host: 'b.localhost', headers: { 'x-a': '1' }, body: 'é' }).toString(),
    'POST /p?q=1 HTTP/1.1\r\nhost: b.localhost\r\nx-a: 1\r\ncontent-length: 2\r\n\r\né',
  );
});

t.test('the pool answers every request against node:http, with fewer connections than requests', async (t) => {
  let served = 0;
  const server = createServer((req, res) => {
    served++;
    if (req.url === '/chunked') {
      res.write('part one ');
      setTimeout(() => res.end('part two'), 2);
    } else if (req.url === '/close') res.setHeader('connection', 'close').end('bye');
    else if (req.url === '/missing') res.writeHead(404).end();
    else res.end(`host ${req.headers.host}`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const { port } = server.address() as AddressInfo;
  const pool = new Http1Pool(`http://127.0.0.1:${port}`, 4);
  t.teardown(() => pool.close());
  const paths = Array.from({ length: 60 }, (_, i) => ['/', '/chunked', '/close', '/missing'][i % 4]!);
  const outcomes = await Promise.all(paths.map((path) => new Promise<Outcome>((resolve) => pool.request(encodeRequest({ path, host: 'x.localhost' }), resolve))));
  t.same(
    outcomes,
    paths.map((path) => (path === '/missing' ? 404 : 200)),
  );
  t.equal(served, 60);
});

t.test('nothing listening: requests fail, without reconnecting in a loop', async (t) => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  const pool = new Http1Pool(`http://127.0.0.1:${port}`, 2);
  const outcomes = await Promise.all(Array.from({ length: 5 }, () => new Promise<Outcome>((resolve) => pool.request(encodeRequest({ host: 'x' }), resolve))));
  t.ok(outcomes.every((o) => o instanceof Error), 'every request failed');
  pool.close();
});

t.test('load goes to loopback only', async (t) => {
  t.throws(() => new Http1Pool('http://10.0.0.1:80', 1), /loopback/);
});
