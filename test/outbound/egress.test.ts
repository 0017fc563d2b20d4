/** Outbound fetch cannot reach the host's own network unless allowlisted; checked on resolved addresses. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { request } from 'undici';
import { createEgressAgent } from '../../src/outbound/egress-agent.ts';
import { egressPolicy, isBlockedAddress, parseAllowEntry } from '../../src/outbound/egress-policy.ts';

t.test('address classification', async (t) => {
  for (const address of ['127.0.0.1', '10.1.2.3', '172.20.0.1', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '224.0.0.1', '::1', '::', 'fe80::1', 'fd00:ec2::254', '::ffff:127.0.0.1', '::ffff:7f00:1', '64:ff9b::a00:1', 'not-an-ip',
    // Other spellings of loopback, and IPv6 ranges that are not globally reachable.
    '0:0:0:0:0:ffff:127.0.0.1', '::127.0.0.1', '::7f00:1', '::ffff:0:127.0.0.1', '2002:7f00:1::1', '2002:a9fe:a9fe::', '64:ff9b:1::1', '2001:0:4136:e378:8000:63bf:80ff:fffe', '3fff::1', 'fec0::1', 'fe80::1%eth0']) {
    t.equal(isBlockedAddress(address), true, address);
  }
  for (const address of ['8.8.8.8', '1.1.1.1', '172.32.0.1', '2606:4700:4700::1111', '::ffff:8.8.8.8', '0:0:0:0:0:ffff:808:808', '64:ff9b::8.8.8.8', '2002:808:808::1', '2001:4860:4860::8888']) {
    t.equal(isBlockedAddress(address), false, address);
  }
});

t.test('allowlist entries: a host or an address opens every port, with :port that port only', async (t) => {
  const policy = egressPolicy(['db.internal', '10.0.0.5:5432', '[fd00::7]:8080', '::1', 'LOCALHOST:9000']);
  t.equal(policy.allows('db.internal', '10.0.0.9', 1), true, 'a name without a port: any port');
  t.equal(policy.allows('x.example', '10.0.0.5', 5432), true);
  t.equal(policy.allows('x.example', '10.0.0.5', 5433), false, 'an address with a port: no other port');
  t.equal(policy.allows('x.example', 'fd00::7', 8080), true);
  t.equal(policy.allows('x.example', 'fd00::7', 80), false);
  t.equal(policy.allows('::1', '::1', 80), true);
  t.equal(policy.allows('localhost', '127.0.0.1', 9000), true, 'names are compared in lower case');
  t.equal(policy.allows('localhost', '127.0.0.1', 9001), false);
  t.equal(policy.allows('example.com', '93.184.215.14', 443), true, 'public addresses need no entry');
  for (const entry of ['a.example', 'a.example:1', '1.2.3.4:65535', '[::1]:80', '[::1]', '::ffff:1.2.3.4', 'fe80::1']) t.not(parseAllowEntry(entry), null, entry);
  for (const entry of ['a b', 'a.example:0', 'a.example:65536', '[a.example]:80', '::1:80:', '300.1.1.1', 'http://a.example', '-a.example']) t.equal(parseAllowEntry(entry), null, entry);
});

t.test('the agent refuses loopback by address and by a name resolving to it; an allowlist opens it', async (t) => {
  const server = createServer((req, res) => res.end('inside'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => server.close());
  const port = (server.address() as AddressInfo).port;
  // A name that resolves to loopback, as a hostile DNS answer would.
  const resolve = async (hostname: string) => (hostname === 'sneaky.example' ? ['127.0.0.1'] : []);

  const closed = createEgressAgent({ policy: egressPolicy(), resolve });
  t.teardown(() => closed.close());
  await t.rejects(request(`http://127.0.0.1:${port}/`, { dispatcher: closed }), { code: 'ISO_ERR_FETCH_BLOCKED' });
  await t.rejects(request(`http://[::1]:${port}/`, { dispatcher: closed }), { code: 'ISO_ERR_FETCH_BLOCKED' });
  await t.rejects(request(`http://sneaky.example:${port}/`, { dispatcher: closed }), { code: 'ISO_ERR_FETCH_BLOCKED', message: /^fetch to sneaky\.example is not allowed/ });
  // The message does not say what the name resolved to: a tenant could map the host's DNS with it.
  await request(`http://sneaky.example:${port}/`, { dispatcher: closed }).catch((err: Error) => t.notMatch(err.message, /127\.0\.0\.1/));

  // A name on the allowlist goes to the system resolver (name-resolution.ts): here the same answer.
  const open = createEgressAgent({ policy: egressPolicy(['sneaky.example']), resolve, resolveListed: resolve });
  t.teardown(() => open.close());
  const res = await request(`http://sneaky.example:${port}/`, { dispatcher: open });
  t.equal(await res.body.text(), 'inside', 'allowlisted name connects to the address it resolved to');
  t.equal(res.statusCode, 200);
});
