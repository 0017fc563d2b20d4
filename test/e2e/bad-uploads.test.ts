/** Every bad upload answers 4xx with a JSON error naming the problem, and nothing is stored. */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { admin, deployMultipart, deployScript, send, startServer } from '../helpers/server.ts';

const server = await startServer(t, { args: ['--max-script-bytes', '65536', '--code-cache', 'disk'] });
const good = `export default { fetch() { return new Response('v1') } }`;

function storedFiles(): string[] {
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
  // code-cache/ is derived data, not the store: checked apart (cachedVersions).
  return walk(server.dataDir).filter((path) => !path.startsWith(join(server.dataDir, 'code-cache'))).sort();
}

/** The versions with compiled code kept on disk: a rejected upload adds none. */
function cachedVersions(): string[] {
  return readdirSync(join(server.dataDir, 'code-cache')).sort();
}

t.before(async () => {
  const res = await deployScript(server, 'keep', good);
  if (res.status !== 201) throw new Error(res.text);
  // Its compiled code is written in the background: wait for it, so that each case compares like with like.
  const dir = join(server.dataDir, 'code-cache');
  for (let i = 0; i < 100 && !(existsSync(dir) && readdirSync(dir).length > 0 && readdirSync(join(dir, readdirSync(dir)[0]!)).some((f) => f.endsWith('.v8'))); i++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
});

const cases: [string, () => ReturnType<typeof admin>, number, string, RegExp?][] = [
  ['syntax error', () => deployScript(server, 'keep', `export default { fetch() { return new Response('x') }`), 400, 'ISO_ERR_DEPLOY_SYNTAX', /worker\.js:1:\d+/],
  ['syntax error in an imported module', () => deployMultipart(server, 'keep', { main_module: 'a.js' }, { 'a.js': `import './b.js'; export default { fetch() {} }`, 'b.js': `let = ;` }), 400, 'ISO_ERR_DEPLOY_SYNTAX', /b\.js:1/],
  ['no fetch handler', () => deployScript(server, 'keep', `export default { hello() {} }`), 400, 'ISO_ERR_DEPLOY_NO_HANDLER'],
  ['no default export at all', () => deployScript(server, 'keep', `export const x = 1;`), 400, 'ISO_ERR_DEPLOY_NO_HANDLER'],
  ['top-level code throws', () => deployScript(server, 'keep', `throw new Error('nope'); export default { fetch() {} }`), 400, 'ISO_ERR_DEPLOY_STARTUP', /nope/],
  ['top-level infinite loop', () => deployScript(server, 'keep', `for (;;) {} export default { fetch() {} }`), 400, 'ISO_ERR_DEPLOY_STARTUP', /startup limit/],
  ['top-level code past the memory limit, bit by bit', () => deployScript(server, 'keep', `const keep = []; for (;;) keep.push(new Array(1e5).fill(1.5)); export default { fetch() {} }`), 400, 'ISO_ERR_DEPLOY_STARTUP', /memory limit/],
  // One 256 MB allocation (flattening the string) at a 128 MB limit: V8 would abort the process without the heap loan.
  ['top-level code past the memory limit at once', () => deployScript(server, 'keep', `const s = ('x'.repeat(2 ** 27) + 'y'.repeat(2 ** 27)).toUpperCase(); export default { fetch() {} }`), 400, 'ISO_ERR_DEPLOY_STARTUP', /memory limit/],
  ['import of a missing module', () => deployMultipart(server, 'keep', { main_module: 'a.js' }, { 'a.js': `import x from './missing.js'; export default { fetch() {} }` }), 400, 'ISO_ERR_DEPLOY_MODULE_MISSING', /missing\.js/],
  ['bare import', () => deployScript(server, 'keep', `import x from 'lodash'; export default { fetch() {} }`), 400, 'ISO_ERR_DEPLOY_MODULE_MISSING', /lodash/],
  ['unknown binding type', () => deployMultipart(server, 'keep', { main_module: 'a.js', bindings: [{ type: 'r2_bucket', name: 'BUCKET', bucket_name: 'x' }] }, { 'a.js': good }), 400, 'ISO_ERR_DEPLOY_BINDING', /r2_bucket/],
  ['binding name not an identifier', () => deployMultipart(server, 'keep', { main_module: 'a.js', bindings: [{ type: 'plain_text', name: 'a-b', text: 'x' }] }, { 'a.js': good }), 400, 'ISO_ERR_DEPLOY_BINDING'],
  ['module name with ..', () => deployMultipart(server, 'keep', { main_module: 'a.js' }, { 'a.js': good, '../evil.js': good }), 400, 'ISO_ERR_DEPLOY_MODULE_NAME', /\.\./],
  ['module name starting with /', () => deployMultipart(server, 'keep', { main_module: 'a.js' }, { 'a.js': good, '/etc/passwd': good }), 400, 'ISO_ERR_DEPLOY_MODULE_NAME'],
  ['main_module not uploaded', () => deployMultipart(server, 'keep', { main_module: 'main.js' }, { 'a.js': good }), 400, 'ISO_ERR_DEPLOY_MODULE_MISSING', /main\.js/],
  ['metadata not JSON', () => admin(server, 'PUT', '/v1/workers/keep', { body: multipartRaw('{oops', good), headers: { 'content-type': 'multipart/form-data; boundary=XyZ' } }), 400, 'ISO_ERR_DEPLOY_METADATA', /JSON/],
  ['no metadata part', () => admin(server, 'PUT', '/v1/workers/keep', { body: multipartRaw(null, good), headers: { 'content-type': 'multipart/form-data; boundary=XyZ' } }), 400, 'ISO_ERR_DEPLOY_METADATA'],
  ['malformed multipart', () => admin(server, 'PUT', '/v1/workers/keep', { body: '--XyZ\r\nContent-Disposition: form-data; name="metadata"\r\n\r\n{"main_module":"a.js"}', headers: { 'content-type': 'multipart/form-data; boundary=XyZ' } }), 400, 'ISO_ERR_DEPLOY_MULTIPART'],
  ['limits out of range', () => deployMultipart(server, 'keep', { main_module: 'a.js', limits: { cpu_ms: 0 } }, { 'a.js': good }), 400, 'ISO_ERR_DEPLOY_LIMITS', /cpu_ms/],
  ['unknown limit', () => deployMultipart(server, 'keep', { main_module: 'a.js', limits: { gpu: 1 } }, { 'a.js': good }), 400, 'ISO_ERR_DEPLOY_LIMITS', /gpu/],
  ['bad route pattern', () => deployMultipart(server, 'keep', { main_module: 'a.js', routes: ['https://x.test/*'] }, { 'a.js': good }), 400, 'ISO_ERR_ROUTE_INVALID'],
  ['too large', () => deployScript(server, 'keep', `export default { fetch() { return new Response('${'x'.repeat(70_000)}') } }`), 413, 'ISO_ERR_DEPLOY_TOO_LARGE'],
  ['wrong content type', () => admin(server, 'PUT', '/v1/workers/keep', { body: good, headers: { 'content-type': 'text/html' } }), 415, 'ISO_ERR_DEPLOY_CONTENT_TYPE'],
  ['invalid worker name', () => deployScript(server, 'Bad_Name!', good), 400, 'ISO_ERR_DEPLOY_INVALID_NAME'],
  ['WebAssembly module', () => deployMultipart(server, 'keep', { main_module: 'a.js' }, { 'a.js': good, 'm.wasm': { content: 'x', type: 'application/wasm' } }), 400, 'ISO_ERR_DEPLOY_MODULE_NAME', /WebAssembly/],
];

function multipartRaw(metadata: string | null, script: string): string {
  const parts = [];
  if (metadata !== null) parts.push(`--XyZ\r\nContent-Disposition: form-data; name="metadata"\r\n\r\n${metadata}\r\n`);
  parts.push(`--XyZ\r\nContent-Disposition: form-data; name="a.js"; filename="a.js"\r\nContent-Type: application/javascript+module\r\n\r\n${script}\r\n`);
  return parts.join('') + '--XyZ--\r\n';
}

for (const [title, upload, status, code, message] of cases) {
  t.test(`bad upload: ${title}`, async (t) => {
    const before = storedFiles();
    const cachedBefore = cachedVersions();
    const res = await upload();
    t.equal(res.status, status, res.text);
    t.match(res.headers['content-type'], /application\/json/);
    t.equal(res.json().error.code, code);
    if (message) t.match(res.json().error.message, message);
    t.same(storedFiles(), before, 'nothing was stored');
    t.same(cachedVersions(), cachedBefore, 'no compiled code was kept for it');
    t.equal((await send(server, 'keep.localhost')).text, 'v1', 'the live version still serves');
  });
}

t.test('admin calls need the token', async (t) => {
  const missing = await admin(server, 'GET', '/v1/workers', { token: null });
  t.equal(missing.status, 401);
  t.equal(missing.json().error.code, 'ISO_ERR_AUTH_MISSING');
  const wrong = await admin(server, 'GET', '/v1/workers', { token: 'test-admin-tokeN' });
  t.equal(wrong.status, 401);
  t.equal(wrong.json().error.code, 'ISO_ERR_AUTH_INVALID');
  const deploy = await admin(server, 'PUT', '/v1/workers/keep', { token: 'nope', body: good, headers: { 'content-type': 'application/javascript' } });
  t.equal(deploy.status, 401);
  t.equal((await send(server, 'keep.localhost')).text, 'v1');
  t.equal((await admin(server, 'GET', '/healthz', { token: null })).status, 200, 'health needs no token');
  t.equal((await admin(server, 'GET', '/v1/nothing')).json().error.code, 'ISO_ERR_NOT_FOUND');
});
