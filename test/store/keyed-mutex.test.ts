import t from 'tap';
import { KeyedMutex } from '../../src/store/keyed-mutex.ts';

const tick = () => new Promise((resolve) => setTimeout(resolve, 1));

t.test('sections with one key run one at a time, in call order', async (t) => {
  const mutex = new KeyedMutex();
  const log: string[] = [];
  const section = (name: string) => async () => {
    log.push(`${name} in`);
    await tick();
    log.push(`${name} out`);
    return name;
  };
  const results = await Promise.all(['1', '2', '3'].map((name) => mutex.run('a', section(name))));
  t.strictSame(results, ['1', '2', '3']);
  t.strictSame(log, ['1 in', '1 out', '2 in', '2 out', '3 in', '3 out']);
  t.equal(mutex.size, 0, 'keys are forgotten when idle');
});

t.test('different keys do not wait for each other', async (t) => {
  const mutex = new KeyedMutex();
  let releaseA!: () => void;
  const a = mutex.run('a', () => new Promise<void>((resolve) => (releaseA = resolve)));
  t.equal(await mutex.run('b', async () => 'b'), 'b');
  t.equal(mutex.size, 1);
  releaseA();
  await a;
  t.equal(mutex.size, 0);
});

t.test('a failing section releases the key', async (t) => {
  const mutex = new KeyedMutex();
  const failed = mutex.run('a', async () => {
    throw new Error('boom');
  });
  const next = mutex.run('a', async () => 'next');
  await t.rejects(failed, { message: 'boom' });
  t.equal(await next, 'next');
  t.equal(mutex.size, 0);
});
