/** What only the fs store has: its layout on disk, crash leftovers, damaged files, fs errors. */
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { openFsStore } from '../../src/store/fs-store.ts';
import { makeSpec } from './specs.ts';
import { tempDataDir } from './temp-dir.ts';

t.test('layout: version files, the worker pointer, routes.json; owner-only modes', async (t) => {
  const dir = await tempDataDir(t);
  const store = await openFsStore(dir);
  const version = await store.putVersion('site', makeSpec('one'));
  await store.activate('site', version.id);
  await store.putRoute({ pattern: 'example.com/*', worker: 'site' });

  t.strictSame((await readdir(dir)).sort(), ['routes.json', 'workers']);
  t.strictSame(await readdir(join(dir, 'workers')), ['site']);
  t.strictSame((await readdir(join(dir, 'workers/site'))).sort(), ['versions', 'worker.json']);
  t.strictSame(await readdir(join(dir, 'workers/site/versions')), [`${version.id}.json`]);
  t.match(JSON.parse(await readFile(join(dir, 'workers/site/worker.json'), 'utf8')), {
    name: 'site',
    activeVersion: version.id,
  });
  t.strictSame(JSON.parse(await readFile(join(dir, 'routes.json'), 'utf8')), {
    routes: [{ pattern: 'example.com/*', worker: 'site' }],
  });
  if (process.platform !== 'win32') {
    t.equal((await stat(join(dir, 'workers/site/versions', `${version.id}.json`))).mode & 0o777, 0o600);
    t.equal((await stat(join(dir, 'workers/site/worker.json'))).mode & 0o777, 0o600);
    t.equal((await stat(join(dir, 'workers/site'))).mode & 0o777, 0o700);
  }
});

t.test('crash leftovers are ignored by reads and removed by cleanup', async (t) => {
  const dir = await tempDataDir(t);
  const store = await openFsStore(dir);
  const live = await store.putVersion('site', makeSpec('live'));
  await store.activate('site', live.id);
  await store.putRoute({ pattern: 'example.com/*', worker: 'site' });

  // What a kill at each step can leave: temp files everywhere, a version without a pointer.
  const orphanId = 'aaaaaaaaaaaaaaaaaaaa';
  await writeFile(join(dir, '.routes.json.1a2b.tmp'), '{"routes":[{"pattern":"evil.com/*"');
  await writeFile(join(dir, 'workers/site/.worker.json.1a2b.tmp'), '{"name":"si');
  await writeFile(join(dir, 'workers/site/versions', `.${orphanId}.json.1a2b.tmp`), '{');
  await mkdir(join(dir, 'workers/ghost/versions'), { recursive: true });
  await writeFile(join(dir, 'workers/ghost/versions', `${orphanId}.json`), '{}');
  // Not ours: left alone.
  await mkdir(join(dir, 'workers/Not-A-Name'));
  await writeFile(join(dir, 'workers/site/versions/README'), 'notes');

  const reopened = await openFsStore(dir);
  t.strictSame((await reopened.listWorkers()).map((worker) => worker.name), ['site']);
  t.equal(await reopened.getWorker('ghost'), null, 'a directory without worker.json is not a worker');
  t.strictSame(await reopened.listRoutes(), [{ pattern: 'example.com/*', worker: 'site' }]);
  t.equal((await reopened.getWorker('site'))?.activeVersion, live.id);

  const { removed } = await reopened.cleanup();
  t.strictSame(removed.sort(), [
    '.routes.json.1a2b.tmp',
    `workers/ghost/versions/${orphanId}.json`,
    'workers/site/.worker.json.1a2b.tmp',
    `workers/site/versions/.${orphanId}.json.1a2b.tmp`,
  ]);
  t.strictSame((await readdir(join(dir, 'workers'))).sort(), ['Not-A-Name', 'site'], 'empty ghost dir removed');
  t.strictSame((await readdir(join(dir, 'workers/site/versions'))).sort(), ['README', `${live.id}.json`]);
  t.strictSame((await reopened.cleanup()).removed, []);
});

t.test('damaged files give ISO_ERR_STORE_IO instead of bad data', async (t) => {
  const dir = await tempDataDir(t);
  const store = await openFsStore(dir);
  const version = await store.putVersion('site', makeSpec('one'));
  await store.activate('site', version.id);
  const versionFile = join(dir, 'workers/site/versions', `${version.id}.json`);
  const original = await readFile(versionFile, 'utf8');

  // Same id, other code: the content no longer hashes to the id.
  await writeFile(versionFile, original.replace('one', 'evil'));
  await t.rejects(store.getVersion('site', version.id), { code: 'ISO_ERR_STORE_IO', status: 500, message: /corrupt/ });
  await t.rejects(store.activate('site', version.id), { code: 'ISO_ERR_STORE_IO' });
  const repaired = await store.putVersion('site', makeSpec('one'));
  t.equal(repaired.id, version.id, 'uploading the same code again repairs it');
  t.strictSame(await store.getVersion('site', version.id), repaired);

  await writeFile(versionFile, original.slice(0, 100));
  await t.rejects(store.getVersion('site', version.id), { code: 'ISO_ERR_STORE_IO', message: /corrupt/ });

  await writeFile(join(dir, 'workers/site/worker.json'), '{"name":"site","activeVersion":"x"}');
  await t.rejects(store.getWorker('site'), { code: 'ISO_ERR_STORE_IO', message: /worker.json of site is corrupt/ });
  await t.rejects(store.listWorkers(), { code: 'ISO_ERR_STORE_IO' });

  await writeFile(join(dir, 'routes.json'), '[]');
  await t.rejects(store.listRoutes(), { code: 'ISO_ERR_STORE_IO', message: /routes.json is corrupt/ });
});

t.test('fs failures become ISO_ERR_STORE_IO with the cause kept', async (t) => {
  const dir = await tempDataDir(t);
  await writeFile(join(dir, 'a-file'), '');
  await t.rejects(openFsStore(join(dir, 'a-file')), { code: 'ISO_ERR_STORE_IO', cause: { code: /ENOTDIR|EEXIST/ } });

  const store = await openFsStore(join(dir, 'data'));
  await writeFile(join(dir, 'data/workers/site'), 'a file where a directory belongs');
  await t.rejects(store.putVersion('site', makeSpec('one')), { code: 'ISO_ERR_STORE_IO', message: /site/ });
});

t.test('invalid names never reach the file system', async (t) => {
  const dir = await tempDataDir(t);
  const store = await openFsStore(join(dir, 'data'));
  for (const name of ['..', '../escape', '.', 'a/../../b', '%2e%2e']) {
    await t.rejects(store.putVersion(name, makeSpec('x')), { code: 'ISO_ERR_DEPLOY_INVALID_NAME' });
    await t.rejects(store.deleteWorker(name), { code: 'ISO_ERR_DEPLOY_INVALID_NAME' });
  }
  t.equal(await store.getVersion('site', '../../routes.json'), null);
  t.strictSame(await readdir(dir), ['data']);
  t.strictSame(await readdir(join(dir, 'data/workers')), []);
});
