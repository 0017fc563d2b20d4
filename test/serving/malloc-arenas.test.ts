/**
 * The serving processes run with two malloc arenas (src/serving/malloc-arenas.ts) unless the operator
 * set MALLOC_ARENA_MAX: read from each serving process's environment, as glibc reads it at start.
 */
import { readFileSync } from 'node:fs';
import t from 'tap';
import { mallocArenas } from '../../src/serving/malloc-arenas.ts';
import { admin, startServer } from '../helpers/server.ts';

/** MALLOC_ARENA_MAX of each serving process of `server`, from /proc. */
async function arenasOfServingProcesses(server: Awaited<ReturnType<typeof startServer>>): Promise<(string | undefined)[]> {
  const system = (await admin(server, 'GET', '/v1/system')).json<{ servingProcesses: { pid: number }[] }>();
  return system.servingProcesses.map(({ pid }) => {
    const environ = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
    return environ.find((entry) => entry.startsWith('MALLOC_ARENA_MAX='))?.slice('MALLOC_ARENA_MAX='.length);
  });
}

t.test('the arena setting a serving process adds', async (t) => {
  t.same(mallocArenas({ PATH: '/bin' }), { MALLOC_ARENA_MAX: '2' });
  t.same(mallocArenas({ MALLOC_ARENA_MAX: '8' }), {}, "the operator's own is kept");
});

t.test('every serving process starts with two arenas', { skip: process.platform !== 'linux' || process.env.MALLOC_ARENA_MAX !== undefined }, async (t) => {
  const server = await startServer(t);
  const arenas = await arenasOfServingProcesses(server);
  t.ok(arenas.length >= 1, `${arenas.length} serving processes`);
  t.same(arenas, arenas.map(() => '2'));
});

t.test("an operator's MALLOC_ARENA_MAX reaches the serving processes as it is", { skip: process.platform !== 'linux' }, async (t) => {
  const server = await startServer(t, { env: { MALLOC_ARENA_MAX: '5' } });
  const arenas = await arenasOfServingProcesses(server);
  t.same(arenas, arenas.map(() => '5'));
});
