/**
 * Wrong admin tokens are rate-limited per client address; the token itself is compared in constant time.
 * A generated token is kept in the data dir and never written to the log.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { admin, startServer, TOKEN } from '../helpers/server.ts';

t.test('a generated admin token is kept in the data dir (0600) and never written to the log', async (t) => {
  const server = await startServer(t, { token: null });
  const ready = await server.record((line) => line.type === 'ready');
  const file = join(server.dataDir, 'admin-token');
  t.equal(ready.adminTokenFile, file, 'the ready line says where it is');
  const token = readFileSync(file, 'utf8').trim();
  t.ok(token.length >= 32, 'a long random token');
  t.equal(statSync(file).mode & 0o777, 0o600);
  t.notOk(server.logs.some((line) => JSON.stringify(line).includes(token)), 'no log line holds it');
  t.equal((await admin(server, 'GET', '/v1/workers', { token })).status, 200, 'it opens the admin API');
});

t.test('ten failures from an address lock it out for the window, right token included', async (t) => {
  const server = await startServer(t);
  t.equal((await admin(server, 'GET', '/v1/workers')).status, 200, 'the right token works');
  for (let i = 0; i < 10; i++) {
    const reply = await admin(server, 'GET', '/v1/workers', { token: i % 2 ? null : `guess-${i}` });
    t.equal(reply.status, 401, `attempt ${i + 1}`);
  }
  const locked = await admin(server, 'GET', '/v1/workers', { token: TOKEN });
  t.equal(locked.status, 429);
  t.equal(locked.json().error.code, 'ISO_ERR_AUTH_RATE_LIMITED');
  t.match(locked.json().error.message, /retry after \d+ s/);
  t.equal((await admin(server, 'GET', '/healthz', { token: null })).status, 200, 'health checks are not affected');
});
