/** Code caches on disk (code-cache-files.ts): what is written reads back whole; a damaged file reads as none. */
import { readdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { CodeCacheFiles } from '../../src/isolates/code-cache-files.ts';
import { tempDataDir } from '../store/temp-dir.ts';

const VERSION = 'v0123456789abcdef000';

/** Waits until the background write has left its file (at most 2 s). */
async function written(dir: string): Promise<string> {
  for (let i = 0; i < 200; i++) {
    try {
      const file = readdirSync(join(dir, VERSION)).find((name) => name.endsWith('.v8'));
      if (file) return join(dir, VERSION, file);
    } catch {}
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error('the cache file was never written');
}

function bytesOf(n: number): ArrayBuffer {
  const bytes = new Uint8Array(n);
  for (let i = 0; i < n; i++) bytes[i] = (i * 31 + 7) & 0xff;
  return bytes.buffer;
}

t.test('a written cache reads back byte for byte, in a buffer of its own size', async (t) => {
  const dir = await tempDataDir(t);
  const files = new CodeCacheFiles(dir);
  files.write(VERSION, 'lib/main.js', bytesOf(170_000));
  await written(dir);
  const read = files.read(VERSION, 'lib/main.js');
  t.ok(read instanceof ArrayBuffer);
  t.equal(read!.byteLength, 170_000, 'the payload only, without the digest in front');
  t.same(new Uint8Array(read!), new Uint8Array(bytesOf(170_000)));
  t.equal(files.read(VERSION, 'other.js'), null, 'a module with no file has none');
  t.equal(files.read('../escape', 'lib/main.js'), null, 'nor does an id that is not a plain segment');
});

t.test('a damaged, truncated or too short file reads as no cache', async (t) => {
  const dir = await tempDataDir(t);
  const files = new CodeCacheFiles(dir);
  files.write(VERSION, 'main.js', bytesOf(4096));
  const path = await written(dir);
  const whole = readFileSync(path);

  const flipped = Buffer.from(whole);
  flipped[whole.length - 1]! ^= 1;
  writeFileSync(path, flipped);
  t.equal(files.read(VERSION, 'main.js'), null, 'one bit changed');

  writeFileSync(path, whole);
  truncateSync(path, whole.length - 100);
  t.equal(files.read(VERSION, 'main.js'), null, 'cut short');

  writeFileSync(path, whole.subarray(0, 32));
  t.equal(files.read(VERSION, 'main.js'), null, 'only a digest');

  writeFileSync(path, whole);
  t.equal(files.read(VERSION, 'main.js')?.byteLength, 4096, 'and whole again, it reads');
});
