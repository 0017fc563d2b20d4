/**
 * Outbound fetch's name resolution, against DNS servers on loopback: a tenant's names are DNS queries
 * sent from the event loop, so a DNS server that never answers holds none of libuv's thread pool; names
 * on the allowlist go to the system's resolver, and `localhost` is loopback without a query.
 */
import { pbkdf2 } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import t, { type Test } from 'tap';
import { request } from 'undici';
import { createEgressAgent } from '../../src/outbound/egress-agent.ts';
import { egressPolicy } from '../../src/outbound/egress-policy.ts';
import { queryResolver } from '../../src/outbound/name-resolution.ts';

/** A DNS server on loopback: answers A queries with `address` (AAAA: no data), or none at all when silent. */
async function dnsServer(t: Test, address: string | null): Promise<{ server: string; queries: string[] }> {
  const socket: Socket = createSocket('udp4');
  const queries: string[] = [];
  socket.on('message', (query, from) => {
    const labels: string[] = [];
    let at = 12;
    while (query[at]! > 0) {
      labels.push(query.subarray(at + 1, at + 1 + query[at]!).toString());
      at += 1 + query[at]!;
    }
    const type = query.readUInt16BE(at + 1);
    queries.push(`${type === 1 ? 'A' : type === 28 ? 'AAAA' : type} ${labels.join('.')}`);
    if (address === null) return;
    const question = query.subarray(12, at + 5);
    const header = Buffer.alloc(12);
    header.writeUInt16BE(query.readUInt16BE(0), 0); // the query's id
    header.writeUInt16BE(0x8180, 2); // a response, recursion desired and available, no error
    header.writeUInt16BE(1, 4);
    const answers = type === 1 ? 1 : 0;
    header.writeUInt16BE(answers, 6);
    const answer = Buffer.from([0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, ...address.split('.').map(Number)]);
    socket.send(Buffer.concat([header, question, ...(answers ? [answer] : [])]), from.port, from.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  t.teardown(() => socket.close());
  return { server: `127.0.0.1:${(socket.address() as AddressInfo).port}`, queries };
}

t.test("a tenant's name is a DNS query: resolved, then checked against the policy", async (t) => {
  const dns = await dnsServer(t, '127.0.0.1');
  const resolve = queryResolver({ servers: [dns.server], timeoutMs: 2000, tries: 1 });
  t.strictSame(await resolve('inside.example'), ['127.0.0.1']);
  t.ok(dns.queries.includes('A inside.example') && dns.queries.includes('AAAA inside.example'), dns.queries.join(', '));

  const upstream = createServer((req, res) => res.end('inside'));
  await new Promise<void>((done) => upstream.listen(0, '127.0.0.1', done));
  t.teardown(() => upstream.close());
  const port = (upstream.address() as AddressInfo).port;
  const closed = createEgressAgent({ policy: egressPolicy(), resolve });
  t.teardown(() => closed.close());
  await t.rejects(request(`http://inside.example:${port}/`, { dispatcher: closed }), { code: 'ISO_ERR_FETCH_BLOCKED' }, 'a name that resolves to loopback is refused');
  const open = createEgressAgent({ policy: egressPolicy(['127.0.0.1']), resolve });
  t.teardown(() => open.close());
  const res = await request(`http://inside.example:${port}/`, { dispatcher: open });
  t.equal(await res.body.text(), 'inside', 'and reached once its address is allowed');
});

t.test('a DNS server that never answers holds no thread of the pool', async (t) => {
  const dns = await dnsServer(t, null);
  const resolve = queryResolver({ servers: [dns.server], timeoutMs: 1500, tries: 1 });
  // Twice as many as libuv's pool has threads: with getaddrinfo, each would hold one until its timeout.
  const pending = Array.from({ length: 8 }, (_, i) => resolve(`slow-${i}.example`).then(() => 'answered', (err: NodeJS.ErrnoException) => err.code));
  let settled = 0;
  for (const lookup of pending) void lookup.then(() => settled++);
  await new Promise<void>((resolve, reject) => pbkdf2('password', 'salt', 1, 32, 'sha256', (err) => (err ? reject(err) : resolve())));
  t.equal(settled, 0, 'work on the thread pool finished while every lookup still waited for its answer');
  t.strictSame(await Promise.all(pending), Array(8).fill('ETIMEOUT'), 'and each lookup fails when its time is up');
  t.equal(new Set(dns.queries.map((query) => query.split(' ')[1])).size, 8, 'each name was sent to the DNS server');
});

t.test('localhost is loopback without a query; names on the allowlist go to the system resolver', async (t) => {
  const asked: string[] = [];
  const resolve = async (hostname: string) => (asked.push(`query ${hostname}`), ['93.184.215.14']);
  const resolveListed = async (hostname: string) => (asked.push(`system ${hostname}`), ['127.0.0.1']);
  const upstream = createServer((req, res) => res.end('listed'));
  await new Promise<void>((done) => upstream.listen(0, '127.0.0.1', done));
  t.teardown(() => upstream.close());
  const port = (upstream.address() as AddressInfo).port;
  const agent = createEgressAgent({ policy: egressPolicy([`db.internal:${port}`]), resolve, resolveListed });
  t.teardown(() => agent.close());
  for (const name of ['localhost', 'api.localhost', 'LOCALHOST']) {
    await t.rejects(request(`http://${name}:${port}/`, { dispatcher: agent }), { code: 'ISO_ERR_FETCH_BLOCKED' }, name);
  }
  t.strictSame(asked, [], 'no resolver was asked about localhost');
  const res = await request(`http://db.internal:${port}/`, { dispatcher: agent });
  t.equal(await res.body.text(), 'listed');
  t.strictSame(asked, ['system db.internal'], 'the allowlisted name went to the system resolver');
});
