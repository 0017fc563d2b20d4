/**
 * Cron triggers over real HTTP: the admin API stores a worker's schedules (Cloudflare's shape) and says
 * when each fires next; bad ones are refused with a JSON 400; POST …/scheduled runs the scheduled
 * handler now and answers its invocation record; a `* * * * *` trigger fires on the minute by itself.
 * The handler's effect is read back through the worker's fetch handler (the Cache API, one serving process).
 */
import t from 'tap';
import { admin, deployScript, send, startServer } from '../helpers/server.ts';

const server = await startServer(t, { args: ['--executors', '1'] });

const WORKER = `export default {
  async fetch(request) {
    const last = await caches.default.match('https://cron.internal/last');
    return last ?? Response.json(null);
  },
  async scheduled(controller, env, ctx) {
    if (controller.cron === 'fail') throw new Error('scheduled boom');
    if (controller.cron === 'spin') for (;;) {}
    console.log('tick', controller.cron);
    ctx.waitUntil(caches.default.put('https://cron.internal/last', Response.json({ cron: controller.cron, scheduledTime: controller.scheduledTime })));
  },
};`;

t.before(async () => {
  for (const [name, source] of [['cron', WORKER], ['web', `export default { fetch() { return new Response('only fetch') } }`]] as const) {
    const res = await deployScript(server, name, source);
    if (res.status !== 201) throw new Error(`deploy of ${name}: ${res.status} ${res.text}`);
  }
});

t.test('schedules: stored in Cloudflare\'s shape, listed with their next run, kept across a deploy', async (t) => {
  const empty = await admin(server, 'GET', '/v1/workers/cron/schedules');
  t.same(empty.json(), { worker: 'cron', schedules: [] });
  const put = await admin(server, 'PUT', '/v1/workers/cron/schedules', { body: JSON.stringify([{ cron: '*/5 * * * *' }, { cron: '0 17 * * sun' }]) });
  t.equal(put.status, 200, put.text);
  const { schedules } = put.json();
  t.same(schedules.map((s: { cron: string }) => s.cron), ['*/5 * * * *', '0 17 * * sun']);
  const every5 = Date.parse(schedules[0].nextRun);
  t.ok(every5 > Date.now() - 1000 && every5 <= Date.now() + 5 * 60_000 && every5 % (5 * 60_000) === 0, `next */5 run ${schedules[0].nextRun}`);
  const sunday = new Date(schedules[1].nextRun);
  t.same([sunday.getUTCDay(), sunday.getUTCHours(), sunday.getUTCMinutes()], [0, 17, 0], '1 = sun = Sunday, UTC');

  t.equal((await deployScript(server, 'cron', `${WORKER}\n// v2`)).status, 200);
  t.same((await admin(server, 'GET', '/v1/workers/cron')).json().schedules, ['*/5 * * * *', '0 17 * * sun'], 'a deploy keeps the schedules');
});

t.test('bad schedules are a 400 naming the problem, and change nothing', async (t) => {
  const before = (await admin(server, 'GET', '/v1/workers/cron/schedules')).json();
  const cases: [string, string, RegExp][] = [
    ['not an array', JSON.stringify({ cron: '* * * * *' }), /JSON array/],
    ['six fields', JSON.stringify([{ cron: '0 * * * * *' }]), /0 \* \* \* \* \*.*5 parts/],
    ['a minute of 61', JSON.stringify([{ cron: '61 * * * *' }]), /61 \* \* \* \*.*minute/],
    ['never fires', JSON.stringify([{ cron: '0 0 31 2 *' }]), /never fires/],
    ['listed twice', JSON.stringify([{ cron: '* * * * *' }, { cron: '* * * * *' }]), /twice/],
    ['an unknown key', JSON.stringify([{ cron: '* * * * *', timezone: 'CET' }]), /\{"cron"/],
    ['too many', JSON.stringify(Array.from({ length: 11 }, (_, i) => ({ cron: `${i} * * * *` }))), /at most 10/],
    ['not JSON', 'every minute', /JSON/],
  ];
  for (const [what, body, message] of cases) {
    const res = await admin(server, 'PUT', '/v1/workers/cron/schedules', { body });
    t.equal(res.status, 400, what);
    t.match(res.json().error, { code: /ISO_ERR_(SCHEDULE_INVALID|BODY_INVALID)/, message }, what);
  }
  t.equal((await admin(server, 'PUT', '/v1/workers/ghost/schedules', { body: '[]' })).status, 404);
  t.equal((await admin(server, 'PUT', '/v1/workers/cron/schedules', { body: '[]', token: null })).status, 401, 'the token is required');
  t.same((await admin(server, 'GET', '/v1/workers/cron/schedules')).json(), before, 'nothing changed');
});

t.test('POST …/scheduled runs the handler now: its record, its logs, its effect', async (t) => {
  const time = Date.UTC(2026, 0, 1, 12, 0);
  const res = await admin(server, 'POST', `/v1/workers/cron/scheduled?cron=${encodeURIComponent('0 12 * * *')}&time=${time}`);
  t.equal(res.status, 200, res.text);
  const record = res.json();
  t.match(record, { worker: 'cron', outcome: 'ok', status: 0, cron: '0 12 * * *', bytesIn: 0, bytesOut: 0 });
  t.ok(record.cpuUs > 0 && record.billedMs >= 1, 'metered');
  t.same((await send(server, 'cron.localhost', '/')).json(), { cron: '0 12 * * *', scheduledTime: time }, 'waitUntil work done before the record');
  const line = await server.record((l) => l.type === 'invocation' && l.requestId === record.requestId);
  t.equal(line.cron, '0 12 * * *', 'the log line names the cron');
  const logs = (await admin(server, 'GET', '/v1/workers/cron/logs')).json().lines as { message?: string }[];
  t.ok(logs.some((l) => l.message === 'tick 0 12 * * *'), 'console output in the worker log');
  t.ok(logs.some((l) => l.message?.includes('Cron: 0 12 * * *')), 'and its REPORT line');

  const failed = (await admin(server, 'POST', '/v1/workers/cron/scheduled?cron=fail')).json();
  t.equal(failed.outcome, 'exception');
  const spun = (await admin(server, 'POST', '/v1/workers/cron/scheduled?cron=spin')).json();
  t.equal(spun.outcome, 'exceededCpu', 'the CPU limit holds for scheduled events');
  t.equal((await send(server, 'cron.localhost', '/')).status, 200, 'the worker still serves');

  const noHandler = (await admin(server, 'POST', '/v1/workers/web/scheduled')).json();
  t.equal(noHandler.outcome, 'exception', 'a worker without a scheduled handler fails the event');
  t.equal((await admin(server, 'POST', '/v1/workers/cron/scheduled?time=soon')).status, 400);
  t.equal((await admin(server, 'POST', '/v1/workers/ghost/scheduled')).status, 404);
});

t.test('a cron-only worker deploys; a request to it is an error, not a crash', async (t) => {
  t.equal((await deployScript(server, 'nightly', `export default { scheduled() {} }`)).status, 201);
  const res = await send(server, 'nightly.localhost', '/');
  t.equal(res.status, 500);
  t.equal(res.json().error.code, 'ISO_ERR_WORKER_EXCEPTION');
  t.equal((await admin(server, 'POST', '/v1/workers/nightly/scheduled')).json().outcome, 'ok');
});

t.test('a * * * * * trigger fires by itself on the minute', async (t) => {
  const put = await admin(server, 'PUT', '/v1/workers/cron/schedules', { body: JSON.stringify([{ cron: '* * * * *' }]) });
  t.equal(put.status, 200);
  const due = Date.parse(put.json().schedules[0].nextRun);
  t.ok(due % 60_000 === 0 && due - Date.now() <= 60_000, 'due at the next minute');
  const line = await server.record((l) => l.type === 'invocation' && l.cron === '* * * * *', 75_000);
  t.equal(line.outcome, 'ok');
  const started = Date.parse(line.startedAt as string);
  t.ok(started >= due && started - due < 5000, `started ${started - due} ms after it was due`);
  t.same((await send(server, 'cron.localhost', '/')).json(), { cron: '* * * * *', scheduledTime: due }, 'the handler saw the due time');
  t.equal((await admin(server, 'PUT', '/v1/workers/cron/schedules', { body: '[]' })).status, 200);
});
