/**
 * With `--code-cache disk` (the default), compiled modules' V8 code caches are kept in the data
 * directory (code-cache-files.ts): written when a version is built, removed when it stops being live,
 * swept at start, and a damaged file never keeps a worker from serving. With `memory` they stay in memory.
 */
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { admin, deployMultipart, send, startServer, type TestServer } from '../helpers/server.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const DISK = ['--code-cache', 'disk'];
const MEMORY = ['--code-cache', 'memory'];

const modules = (greeting: string) => ({
  'main.js': `import { greet } from './lib/greet.js'; export default { fetch(request) { return new Response(greet(new URL(request.url).pathname)) } }`,
  'lib/greet.js': `export function greet(path) { return '${greeting} ' + path }`,
});

async function activeVersion(server: TestServer, name: string): Promise<string> {
  return (await admin(server, 'GET', `/v1/workers/${name}`)).json().activeVersion as string;
}

/** The cache files of a version, once the background writes have landed. */
async function cacheFiles(dir: string, versionId: string, expected: number): Promise<string[]> {
  const versionDir = join(dir, 'code-cache', versionId);
  for (let i = 0; i < 100; i++) {
    const files = existsSync(versionDir) ? readdirSync(versionDir).filter((f) => f.endsWith('.v8')) : [];
    if (files.length >= expected) return files;
    await sleep(20);
  }
  return existsSync(versionDir) ? readdirSync(versionDir) : [];
}

async function gone(path: string): Promise<boolean> {
  for (let i = 0; i < 100 && existsSync(path); i++) await sleep(20);
  return !existsSync(path);
}

t.test('a deploy writes its modules caches; a redeploy removes the old version', async (t) => {
  const server = await startServer(t, { args: DISK });
  t.equal((await deployMultipart(server, 'cached', { main_module: 'main.js' }, modules('hello'))).status, 201);
  const v1 = await activeVersion(server, 'cached');
  t.equal((await cacheFiles(server.dataDir, v1, 2)).length, 2, 'one file per module');
  t.equal((await send(server, 'cached.localhost', '/a')).text, 'hello /a');

  t.equal((await deployMultipart(server, 'cached', { main_module: 'main.js' }, modules('bonjour'))).status, 200);
  const v2 = await activeVersion(server, 'cached');
  t.not(v2, v1);
  t.equal((await send(server, 'cached.localhost', '/b')).text, 'bonjour /b');
  t.equal((await cacheFiles(server.dataDir, v2, 2)).length, 2);
  t.ok(await gone(join(server.dataDir, 'code-cache', v1)), 'the old version\'s caches are removed');

  t.equal((await admin(server, 'DELETE', '/v1/workers/cached')).status, 200);
  t.ok(await gone(join(server.dataDir, 'code-cache', v2)), 'and a deleted worker\'s');
});

t.test('an isolate idle after its first request remakes its caches, with what that request compiled', async (t) => {
  const server = await startServer(t, { args: [...DISK, '--idle-gc-ms', '200'] });
  const many = Array.from({ length: 60 }, (_, i) => `function step${i}(x) { return x + ${i} }`).join('\n');
  const source = `${many}\nexport default { fetch() { let x = 0; ${Array.from({ length: 60 }, (_, i) => `x = step${i}(x);`).join(' ')} return new Response(String(x)) } }`;
  t.equal((await deployMultipart(server, 'lazy', { main_module: 'main.js' }, { 'main.js': source })).status, 201);
  const version = await activeVersion(server, 'lazy');
  const [file] = await cacheFiles(server.dataDir, version, 1);
  const path = join(server.dataDir, 'code-cache', version, file!);
  const before = statSync(path).size;
  t.equal((await send(server, 'lazy.localhost')).text, String((59 * 60) / 2));
  let after = before;
  for (let i = 0; i < 150 && after <= before; i++) {
    await sleep(20);
    after = statSync(path).size;
  }
  t.ok(after > before, `the cache file grew once the isolate was idle (${before} → ${after} bytes)`);
});

t.test('a deploy makes its caches after the top-level code ran, with what that code called', async (t) => {
  const server = await startServer(t, { args: DISK });
  const many = Array.from({ length: 60 }, (_, i) => `function setup${i}(x) { return x + ${i} }`).join('\n');
  const calls = Array.from({ length: 60 }, (_, i) => `x = setup${i}(x);`).join(' ');
  const atTop = `${many}\nlet x = 0; ${calls}\nexport default { fetch() { return new Response(String(x)) } }`;
  const inFetch = `${many}\nexport default { fetch() { let x = 0; ${calls} return new Response(String(x)) } }`;
  const sizes: Record<string, number> = {};
  for (const [name, source] of [['top', atTop], ['later', inFetch]] as const) {
    t.equal((await deployMultipart(server, name, { main_module: 'main.js' }, { 'main.js': source })).status, 201);
    const version = await activeVersion(server, name);
    const [file] = await cacheFiles(server.dataDir, version, 1);
    const path = join(server.dataDir, 'code-cache', version, file!);
    await sleep(300); // the compile-time cache is written first, then the one made after top-level code
    sizes[name] = statSync(path).size;
  }
  // Both compile the same 60 functions lazily; only the first worker's top-level code calls them.
  t.ok(sizes.top! > sizes.later! + 1500, `the cache holds the functions top-level code called (${sizes.top} against ${sizes.later} bytes)`);
});

t.test('a deployed version that has not served leaves a cache of every function; once it has served, of what it used', async (t) => {
  const server = await startServer(t, { args: [...DISK, '--idle-gc-ms', '200', '--executors', '1'] });
  // A tiny worker's first request compiles next to nothing: its cache stays as the deploy made it.
  t.equal((await deployMultipart(server, 'tiny', { main_module: 'main.js' }, { 'main.js': `export default { fetch() { return new Response('tiny') } }` })).status, 201);
  const tinyVersion = await activeVersion(server, 'tiny');
  const [tinyFile] = await cacheFiles(server.dataDir, tinyVersion, 1);
  const tinyPath = join(server.dataDir, 'code-cache', tinyVersion, tinyFile!);
  const tinyAtDeploy = statSync(tinyPath).size;
  const called = Array.from({ length: 40 }, (_, i) => `function step${i}(x) { return x + ${i} }`).join('\n');
  const unused = Array.from({ length: 40 }, (_, i) => `function unused${i}(s) { return s.split('').reverse().join('${i}') }`).join('\n');
  const source = `${called}\n${unused}\nexport default { fetch() { let x = 0; ${Array.from({ length: 40 }, (_, i) => `x = step${i}(x);`).join(' ')} return new Response(String(x)) } }`;
  t.equal((await deployMultipart(server, 'eager', { main_module: 'main.js' }, { 'main.js': source })).status, 201);
  const version = await activeVersion(server, 'eager');
  const [file] = await cacheFiles(server.dataDir, version, 1);
  const path = join(server.dataDir, 'code-cache', version, file!);
  const sizeOnceChanged = async (from: number) => {
    for (let i = 0; i < 150; i++) {
      const size = statSync(path).size;
      if (size !== from) return size;
      await sleep(20);
    }
    return from;
  };
  const atDeploy = statSync(path).size;
  const everyFunction = await sizeOnceChanged(atDeploy);
  t.ok(everyFunction > atDeploy + 4000, `idle, the deploy's isolate saved a cache of all 80 functions (${atDeploy} → ${everyFunction} bytes)`);
  t.equal(statSync(tinyPath).size, tinyAtDeploy, 'the tiny worker, idle for longer, kept its cache');

  t.equal((await send(server, 'eager.localhost')).text, String((39 * 40) / 2));
  const used = await sizeOnceChanged(everyFunction);
  t.ok(used < everyFunction - 2000, `after its first request, one of what ran: not the 40 unused functions (${everyFunction} → ${used} bytes)`);
  t.ok(used > atDeploy + 1000, 'but the 40 the request called');
});

t.test('a deploy that failed where it counted leaves no version built in the other process', async (t) => {
  // Every process builds a deploy at once; the first one's answer counts. Top-level code that fails by
  // chance can pass in another process, which then drops what it built (its isolate and its caches).
  const server = await startServer(t);
  const outcomes: number[] = [];
  for (let i = 0; i < 24; i++) {
    const source = `if (Math.random() < 0.5) throw new Error('unlucky'); export default { fetch() { return new Response('lucky ${i}') } }`;
    outcomes.push((await deployMultipart(server, 'chance', { main_module: 'main.js' }, { 'main.js': source })).status);
  }
  t.ok(outcomes.some((status) => status === 400), `some deploys failed (${outcomes.join(' ')})`);
  const live = outcomes.some((status) => status < 300) ? await activeVersion(server, 'chance') : null;
  const dir = join(server.dataDir, 'code-cache');
  let left: string[] = [];
  for (let i = 0; i < 100; i++) {
    left = existsSync(dir) ? readdirSync(dir).filter((entry) => entry !== live) : [];
    if (left.length === 0) break;
    await sleep(30);
  }
  t.same(left, [], 'only the live version has caches on disk');
});

t.test('after a restart: stale caches are swept, damaged ones ignored, the worker serves', async (t) => {
  const first = await startServer(t, { args: DISK });
  t.equal((await deployMultipart(first, 'kept', { main_module: 'main.js' }, modules('hi'))).status, 201);
  const version = await activeVersion(first, 'kept');
  const files = await cacheFiles(first.dataDir, version, 2);
  t.equal(files.length, 2);
  await first.kill();

  const stale = join(first.dataDir, 'code-cache', 'abcdef0123456789abcd');
  mkdirSync(stale, { recursive: true });
  writeFileSync(join(stale, 'x.v8'), 'left by a version that is gone');
  const temp = join(first.dataDir, 'code-cache', version, 'x.v8.0123456789ab.tmp');
  writeFileSync(temp, 'a write the crash cut short');
  // One file damaged (its digest no longer matches), one replaced by bytes V8 must reject.
  const dir = join(first.dataDir, 'code-cache', version);
  writeFileSync(join(dir, files[0]!), Buffer.alloc(200, 1));
  const { createHash } = await import('node:crypto');
  const junk = Buffer.alloc(4096, 7);
  writeFileSync(join(dir, files[1]!), Buffer.concat([createHash('sha256').update(junk).digest(), junk]));

  const second = await startServer(t, { dataDir: first.dataDir, args: DISK });
  t.notOk(existsSync(stale), 'a version no worker serves has its caches swept');
  t.same(second.logs.find((l) => l.type === 'code-cache-cleanup')?.versions, ['abcdef0123456789abcd'], 'and the sweep is logged');
  t.notOk(existsSync(temp), 'and a temp file of a live one');
  t.equal((await send(second, 'kept.localhost', '/x')).text, 'hi /x');
  t.equal((await send(second, 'kept.localhost', '/y')).text, 'hi /y');
});

t.test('in memory mode nothing is written to the data directory, and a restart in it drops what disk mode left', async (t) => {
  const server = await startServer(t, { args: MEMORY });
  t.equal((await deployMultipart(server, 'memory', { main_module: 'main.js' }, modules('hey'))).status, 201);
  t.equal((await send(server, 'memory.localhost', '/m')).text, 'hey /m');
  await sleep(300);
  const dir = join(server.dataDir, 'code-cache');
  t.same(existsSync(dir) ? readdirSync(dir) : [], [], 'no compiled code on disk');
  await server.kill();

  const disk = await startServer(t, { dataDir: server.dataDir });
  const version = await activeVersion(disk, 'memory');
  t.equal((await send(disk, 'memory.localhost', '/d')).text, 'hey /d');
  t.equal((await cacheFiles(disk.dataDir, version, 2)).length, 2, 'disk mode, the default, writes them');
  await disk.kill();

  const again = await startServer(t, { dataDir: server.dataDir, args: MEMORY });
  t.notOk(existsSync(join(dir, version)), 'memory mode sweeps them at start');
  t.equal((await send(again, 'memory.localhost', '/a')).text, 'hey /a');
});
