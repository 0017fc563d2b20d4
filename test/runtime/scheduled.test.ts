import t, { type Test } from 'tap';
import { TestWorker } from './harness.ts';

async function worker(t: Test, kind: 'module' | 'script', source: string, env: Record<string, unknown> = {}): Promise<TestWorker> {
  const w = await TestWorker.create();
  t.teardown(() => w.dispose());
  t.equal(kind === 'module' ? w.deployModule(source, env) : w.deployScript(source, env), kind === 'module' ? 'module' : 'service-worker');
  return w;
}

const DUE = Date.UTC(2026, 10, 28, 6, 0);

t.test('module syntax: scheduled(controller, env, ctx) gets the due time, the cron and the bindings; nothing is answered', async (t) => {
  const w = await worker(
    t,
    'module',
    `export default {
      async scheduled(controller, env, ctx) {
        await new Promise((resolve) => setTimeout(resolve, 5));
        ctx.waitUntil(new Promise((resolve) => setTimeout(resolve, 10)).then(() => console.log('waited')));
        controller.noRetry();
        console.log(JSON.stringify({
          time: controller.scheduledTime, cron: controller.cron, env: env.WHO,
          kind: Object.prototype.toString.call(controller), keys: Object.keys(controller),
        }));
      },
    };`,
    { WHO: 'cron' },
  );
  const answer = w.scheduled(DUE, '0 6 * * *');
  t.equal(answer.done, true, 'done once waitUntil settled');
  t.equal(answer.status, undefined, 'no response');
  t.equal(answer.error, undefined, 'no error');
  const logs = w.logs().map(([, message]) => message);
  t.same(JSON.parse(logs[0]!), { time: DUE, cron: '0 6 * * *', env: 'cron', kind: '[object ScheduledController]', keys: [] });
  t.equal(logs[1], 'waited', 'the waitUntil promise ran before done');
});

t.test('module syntax: a scheduled handler that throws or rejects fails with its error', async (t) => {
  const w = await worker(
    t,
    'module',
    `export default {
      scheduled(controller) {
        if (controller.cron === 'throw') throw new Error('sync boom');
        return Promise.reject(new RangeError('async boom'));
      },
    };`,
  );
  const thrown = w.scheduled(DUE, 'throw');
  t.match(thrown.error?.message, /sync boom/);
  t.equal(thrown.done, true);
  const rejected = w.scheduled(DUE, '* * * * *');
  t.match(rejected.error?.message, /RangeError: async boom|async boom/);
  t.equal(rejected.done, true);
});

t.test('a worker with only a scheduled handler installs; a request to it fails clearly, and a fetch-only worker refuses events', async (t) => {
  const cronOnly = await worker(t, 'module', `export default { scheduled() {} }`);
  const request = cronOnly.fetch('https://w.example/');
  t.match(request.error?.message, /no fetch handler/);
  t.equal(cronOnly.scheduled(DUE, '* * * * *').error, undefined);

  const fetchOnly = await worker(t, 'module', `export default { fetch() { return new Response('x') } }`);
  const event = fetchOnly.scheduled(DUE, '* * * * *');
  t.match(event.error?.message, /no scheduled handler/);
  t.equal(event.done, true);
});

t.test("service-worker syntax: 'scheduled' listeners get a ScheduledEvent; waitUntil keeps the event open", async (t) => {
  const w = await worker(
    t,
    'script',
    `addEventListener('scheduled', (event) => {
      event.waitUntil(new Promise((resolve) => setTimeout(resolve, 5)).then(() => console.log('later', event.cron)));
      console.log(JSON.stringify({ type: event.type, time: event.scheduledTime, isEvent: event instanceof Event, name: event.constructor.name }));
    });
    addEventListener('scheduled', () => { throw new Error('second listener') });`,
  );
  const answer = w.scheduled(DUE, '*/5 * * * *');
  t.match(answer.error?.message, /second listener/, "a listener's exception fails the event");
  const logs = w.logs().map(([, message]) => message);
  t.same(JSON.parse(logs[0]!), { type: 'scheduled', time: DUE, isEvent: true, name: 'ScheduledEvent' });
  t.equal(logs[1], 'later */5 * * * *');
  t.equal(answer.done, true);

  const fetchOnly = await worker(t, 'script', `addEventListener('fetch', (e) => e.respondWith(new Response('x')))`);
  t.match(fetchOnly.scheduled(DUE, '* * * * *').error?.message, /no scheduled handler/);
  const cronOnly = await worker(t, 'script', `addEventListener('scheduled', () => {})`);
  t.match(cronOnly.fetch('https://w.example/').error?.message, /no fetch handler/);
});

t.test('the controller and the event cannot be constructed by tenant code', async (t) => {
  const w = await worker(
    t,
    'module',
    `export default {
      scheduled(controller) {
        const errors = [];
        try { new controller.constructor({}, 1, 'x') } catch (e) { errors.push(e.message) }
        try { Object.getOwnPropertyDescriptor(controller.constructor.prototype, 'cron').get.call({}) } catch (e) { errors.push(e.constructor.name) }
        console.log(JSON.stringify(errors));
      },
    };`,
  );
  w.scheduled(DUE, '* * * * *');
  t.same(JSON.parse(w.logs()[0]![1]), ['Illegal constructor', 'TypeError']);
});
