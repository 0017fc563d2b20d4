/** Warm isolates are bounded in number and disposed when idle: an unused worker costs nothing. */
import t from 'tap';
import { deployScript, send, startServer, TOKEN, type LogLine, type TestServer } from '../helpers/server.ts';

const hello = (name: string) => `export default { fetch() { return new Response(${JSON.stringify(name)}) } }`;

async function served(server: TestServer, worker: string): Promise<LogLine> {
  const before = server.logs.filter((l) => l.type === 'invocation' && l.worker === worker).length;
  const reply = await send(server, `${worker}.localhost`);
  if (reply.text !== worker) throw new Error(`unexpected answer ${reply.status} ${reply.text}`);
  await server.record(() => server.logs.filter((l) => l.type === 'invocation' && l.worker === worker).length > before);
  return server.logs.filter((l) => l.type === 'invocation' && l.worker === worker).at(-1)!;
}

interface SystemInfo {
  servingProcesses: { idleGc: { isolates: number; cpuMs: number }; isolates: { warm: number; evicted: number } }[];
}

async function system(server: TestServer): Promise<SystemInfo> {
  const reply = await fetch(`${server.adminUrl}/v1/system`, { headers: { authorization: `Bearer ${TOKEN}` } });
  return (await reply.json()) as SystemInfo;
}

t.test('the pool is bounded by count: the least recently used isolate is evicted', async (t) => {
  const server = await startServer(t, { args: ['--executors', '1', '--max-isolates', '1'] });
  await deployScript(server, 'a', hello('a'));
  await deployScript(server, 'b', hello('b'));
  t.equal((await served(server, 'b')).cold, false, 'b was warmed by its deploy');
  t.equal((await served(server, 'a')).cold, true, 'a was evicted when b was built');
  t.equal((await served(server, 'a')).cold, false, 'a is warm now');
  t.equal((await served(server, 'b')).cold, true, 'b was evicted for a');
  // GET /v1/system counts them (reported each second): one warm, three evictions (a for b's deploy, then
  // b, then a again).
  let isolates = { warm: 0, evicted: 0 };
  for (let i = 0; i < 50 && isolates.evicted < 3; i++) {
    await new Promise((r) => setTimeout(r, 100));
    isolates = (await system(server)).servingProcesses[0]!.isolates;
  }
  t.same(isolates, { warm: 1, evicted: 3 }, 'GET /v1/system: one warm isolate, three evicted');
});

t.test('an idle isolate is disposed (scale to zero) and the next request is a cold start', async (t) => {
  const server = await startServer(t, { args: ['--idle-ms', '1000'] });
  await deployScript(server, 'sleepy', hello('sleepy'));
  t.equal((await served(server, 'sleepy')).cold, false);
  await new Promise((r) => setTimeout(r, 2500));
  const record = await served(server, 'sleepy');
  t.equal(record.cold, true, 'idle past 1 s: rebuilt on demand');
  t.ok((record.initMs as number) > 0);
});

t.test('an idle isolate gives its spare memory back and stays warm', async (t) => {
  const server = await startServer(t, { args: ['--executors', '1', '--idle-gc-ms', '300'] });
  await deployScript(server, 'resting', hello('resting'));
  t.equal((await served(server, 'resting')).cold, false);
  let idleGc = { isolates: 0, cpuMs: 0 };
  for (let i = 0; i < 50 && idleGc.isolates === 0; i++) {
    await new Promise((r) => setTimeout(r, 200));
    idleGc = (await system(server)).servingProcesses[0]!.idleGc;
  }
  t.ok(idleGc.isolates >= 1 && idleGc.cpuMs > 0, `collected while idle: ${JSON.stringify(idleGc)}`);
  t.equal((await served(server, 'resting')).cold, false, 'the next request finds it warm and answers');
});
