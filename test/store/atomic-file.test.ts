import { mkdir, readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { isTempFile, mkdirDurable, writeFileAtomic } from '../../src/store/atomic-file.ts';
import { tempDataDir } from './temp-dir.ts';

t.test('writeFileAtomic creates and replaces, leaving no temp file', async (t) => {
  const dir = await tempDataDir(t);
  const file = join(dir, 'x.json');
  await writeFileAtomic(file, 'one');
  await writeFileAtomic(file, 'two');
  t.equal(await readFile(file, 'utf8'), 'two');
  t.strictSame(await readdir(dir), ['x.json']);
  if (process.platform !== 'win32') t.equal((await stat(file)).mode & 0o777, 0o600);
});

t.test('a failed write leaves the old file and no temp file', async (t) => {
  const dir = await tempDataDir(t);
  const target = join(dir, 'target');
  await mkdir(target); // renaming a file over a directory fails
  await t.rejects(writeFileAtomic(target, 'data'));
  t.strictSame(await readdir(dir), ['target']);
  await t.rejects(writeFileAtomic(join(dir, 'missing/x.json'), 'data'), { code: 'ENOENT' });
});

t.test('mkdirDurable creates nested directories, owner-only, and is idempotent', async (t) => {
  const dir = await tempDataDir(t);
  await mkdirDurable(join(dir, 'a/b/c'));
  await mkdirDurable(join(dir, 'a/b/c'));
  t.ok((await stat(join(dir, 'a/b/c'))).isDirectory());
  if (process.platform !== 'win32') t.equal((await stat(join(dir, 'a/b'))).mode & 0o777, 0o700);
});

t.test('isTempFile matches what writeFileAtomic leaves, nothing else', async (t) => {
  t.ok(isTempFile('.worker.json.0a1b2c3d4e5f.tmp'));
  t.notOk(isTempFile('worker.json'));
  t.notOk(isTempFile('0123456789abcdef0123.json'));
  t.notOk(isTempFile('.hidden'));
});
