/**
 * Log lines and invocation records say what happened: one line per line whatever a tenant prints
 * (U+2028/U+2029 split lines for readers like Node's readline), a HEAD sends no body bytes, and a
 * client gone before any answer got no status.
 */
import t from 'tap';
import { request } from 'undici';
import { deployScript, send, startServer } from '../helpers/server.ts';

const server = await startServer(t);

t.test('a console line with U+2028 and U+2029 stays one log line', async (t) => {
  t.equal((await deployScript(server, 'separators', `export default { fetch() { console.log('a\\u2028b\\u2029c'); return new Response('ok') } }`)).status, 201);
  const reply = await send(server, 'separators.localhost');
  await server.record((line) => line.type === 'invocation' && line.worker === 'separators');
  const lines = server.logs.filter((line) => line.worker === 'separators' && line.type === 'console');
  t.equal(lines.length, 1);
  t.equal(lines[0]?.message, 'a\u2028b\u2029c', 'read back whole by a line reader that splits on them');
  t.equal(server.logs.filter((line) => line.type === 'text').length, 0, 'and no line the reader could not parse');
});

t.test('a HEAD records no body bytes sent', async (t) => {
  t.equal((await deployScript(server, 'headed', `export default { fetch() { return new Response('x'.repeat(100000)) } }`)).status, 201);
  const reply = await send(server, 'headed.localhost', '/', { method: 'HEAD' });
  t.equal(reply.headers['content-length'], '100000', 'the length a GET would get');
  const record = await server.record((line) => line.type === 'invocation' && line.worker === 'headed');
  t.equal(record.bytesOut, 0);
});

t.test('a client gone before any answer: the record has no status', async (t) => {
  t.equal((await deployScript(server, 'slow-answer', `export default { async fetch() { await scheduler.wait(2000); return new Response('late') } }`)).status, 201);
  const controller = new AbortController();
  const pending = request(`${server.dataUrl}/`, { headers: { host: 'slow-answer.localhost' }, signal: controller.signal }).catch(() => null);
  await new Promise((resolve) => setTimeout(resolve, 300));
  controller.abort();
  await pending;
  const record = await server.record((line) => line.type === 'invocation' && line.worker === 'slow-answer');
  t.equal(record.outcome, 'canceled');
  t.equal(record.status, 0, 'nothing was sent to it');
});
