/** Outbound fetch cannot reach the host's own network unless allowlisted; checked on resolved addresses. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { request } from 'undici';
import { createEgressAgent } from '../../src/outbound/egress-agent.ts';
import { egressPolicy, isBlockedAddress } from '../../src/outbound/egress-policy.ts';

t.test('address classification', async (t) => {
  for (const address of ['127.0.0.1', '10.1.2.3', '172.20.0.1', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '224.0.0.1', '::1', '::', 'fe80::1', 'fd00:ec2::254', '::ffff:127.0.0.1', '::ffff:7f00:1', '64:ff9b::a00:1', 'not-an-ip']) {
    t.equal(isBlockedAddress(address), true, address);
  }
  for (const address of ['8.8.8.8', '1.1.1.1', '172.32.0.1', '2606:4700:4700::1111', '::ffff:8.8.8.8']) {
    t.equal(isBlockedAddress(address), false, address);
  }
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

  const open = createEgressAgent({ policy: egressPolicy(['sneaky.example']), resolve });
  t.teardown(() => open.close());
  const res = await request(`http://sneaky.example:${port}/`, { dispatcher: open });
  t.equal(await res.body.text(), 'inside', 'allowlisted name connects to the address it resolved to');
  t.equal(res.statusCode, 200);
});
