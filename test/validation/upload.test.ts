import t from 'tap';
import { checkModuleName } from '../../src/validation/module-name.ts';
import { parseMetadata } from '../../src/validation/metadata.ts';
import { parseUpload } from '../../src/validation/upload.ts';

t.test('module names', async (t) => {
  t.equal(checkModuleName('./a.js'), 'a.js');
  t.equal(checkModuleName('lib/a.js'), 'lib/a.js');
  for (const bad of ['', '/a.js', '../a.js', 'a/../../b.js', 'a//b.js', 'a\\b.js', 'a\0.js', 'x'.repeat(300)]) {
    t.throws(() => checkModuleName(bad), { code: 'ISO_ERR_DEPLOY_MODULE_NAME' }, JSON.stringify(bad.slice(0, 20)));
  }
});

t.test('metadata', async (t) => {
  const m = parseMetadata(JSON.stringify({ main_module: 'a.js', limits: { cpu_ms: 10 }, bindings: [{ type: 'json', name: 'J', json: [1] }], routes: ['a.test/*', { pattern: 'b.test/*' }] }));
  t.equal(m.limits.cpuMs, 10);
  t.equal(m.limits.memoryMb, 128);
  t.same(m.routes, ['a.test/*', 'b.test/*']);
  t.throws(() => parseMetadata('[]'), { code: 'ISO_ERR_DEPLOY_METADATA' });
  t.throws(() => parseMetadata('{"main_module":"a.js","body_part":"b"}'), { code: 'ISO_ERR_DEPLOY_METADATA' });
  t.throws(() => parseMetadata('{"main_module":"a.js","compatibility_date":"yesterday"}'), { code: 'ISO_ERR_DEPLOY_METADATA' });
  for (const date of ['9999-99-99', '0000-00-00', '2025-02-30', '2999-01-01']) {
    t.throws(() => parseMetadata(JSON.stringify({ main_module: 'a.js', compatibility_date: date })), { code: 'ISO_ERR_DEPLOY_METADATA', message: /compatibility_date/ }, `${date} is refused`);
  }
  t.equal(parseMetadata('{"main_module":"a.js","compatibility_date":"2024-02-29"}').compatibilityDate, '2024-02-29', 'a real past date is kept');
  const routes = Array.from({ length: 101 }, (_, i) => `r${i}.example.com/*`);
  t.throws(() => parseMetadata(JSON.stringify({ main_module: 'a.js', routes })), { code: 'ISO_ERR_DEPLOY_METADATA', message: /at most 100/ }, 'at most 100 routes a deploy');
  t.throws(() => parseMetadata('{"main_module":"a.js","bindings":[{"type":"plain_text","name":"A","text":"x"},{"type":"plain_text","name":"A","text":"y"}]}'), { code: 'ISO_ERR_DEPLOY_BINDING', message: /duplicate/ });
  t.throws(() => parseMetadata('{"main_module":"a.js","limits":{"memory_mb":4}}'), { code: 'ISO_ERR_DEPLOY_LIMITS' });
});

t.test('uploads: single module, multipart, size', async (t) => {
  const single = await parseUpload('application/javascript', new TextEncoder().encode('export default {}'), 1000);
  t.equal(single.spec.main, 'worker.js');
  t.equal(single.spec.modules[0]!.type, 'esm');
  await t.rejects(parseUpload('application/javascript', new Uint8Array(2000), 1000), { code: 'ISO_ERR_DEPLOY_TOO_LARGE' });
  await t.rejects(parseUpload('application/javascript', new Uint8Array([0xff, 0xfe]), 1000), { code: 'ISO_ERR_DEPLOY_SYNTAX', message: /UTF-8/ });
  await t.rejects(parseUpload(undefined, new Uint8Array(1), 1000), { code: 'ISO_ERR_DEPLOY_CONTENT_TYPE' });

  const form = new FormData();
  form.append('metadata', JSON.stringify({ main_module: 'main.js' }));
  form.append('main.js', new Blob(['export default {}'], { type: 'application/javascript+module' }), 'main.js');
  form.append('bin', new Blob([new Uint8Array([1, 2, 3])], { type: 'application/octet-stream' }), 'bin');
  form.append('main.js', new Blob(['x'], { type: 'application/javascript+module' }), 'main.js');
  const request = new Request('http://x/', { method: 'PUT', body: form });
  const body = new Uint8Array(await request.arrayBuffer());
  await t.rejects(parseUpload(request.headers.get('content-type')!, body, 1 << 20), { code: 'ISO_ERR_DEPLOY_MODULE_NAME', message: /twice/ });
});

t.test("metadata: limits named like Object.prototype's members and json nested past 100 levels are 400s", async (t) => {
  for (const field of ['__proto__', 'constructor', 'toString']) {
    t.throws(() => parseMetadata(`{"main_module":"a.js","limits":{"${field}":5}}`), { code: 'ISO_ERR_DEPLOY_LIMITS', message: new RegExp(`unknown limit ${field}`) }, field);
  }
  const deep = (n: number) => '['.repeat(n) + ']'.repeat(n);
  t.throws(() => parseMetadata(`{"main_module":"a.js","bindings":[{"type":"json","name":"X","json":${deep(3000)}}]}`), { code: 'ISO_ERR_DEPLOY_BINDING', message: /nests deeper than 100 levels/ });
  t.doesNotThrow(() => parseMetadata(`{"main_module":"a.js","bindings":[{"type":"json","name":"X","json":${deep(100)}}]}`));
});
