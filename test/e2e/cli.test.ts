/** `isolane deploy` and `isolane workers` against a running server. */
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { AVAILABLE_BUILTINS } from '../../src/isolates/builtin-modules.ts';
import { admin, send, startServer, TOKEN, type TestServer } from '../helpers/server.ts';

const run = promisify(execFile);
const CLI = join(import.meta.dirname, '..', '..', 'src', 'cli.ts');

// One server for the tests that deploy (each start costs a few seconds); stopped when the file ends.
let shared: Promise<TestServer> | undefined;
const sharedServer = () => (shared ??= startServer(t));

t.test('deploy a file with routes and vars, then list workers', async (t) => {
  const server = await sharedServer();
  const env = { ...process.env, ISOLANE_ADMIN_URL: server.adminUrl, ISOLANE_ADMIN_TOKEN: TOKEN };
  const file = join(t.testdir(), 'greet.js');
  writeFileSync(file, `export default { fetch(req, env) { return new Response('greetings, ' + env.WHO) } }`);
  const deployed = await run(process.execPath, ['--no-node-snapshot', CLI, 'deploy', file, '--name', 'greet', '--route', 'greet.example.com/*', '--var', 'WHO=cli'], { env });
  t.match(JSON.parse(deployed.stdout), { worker: 'greet', routes: ['greet.example.com/*'] });
  t.equal((await send(server, 'greet.example.com')).text, 'greetings, cli');
  const listed = await run(process.execPath, ['--no-node-snapshot', CLI, 'workers'], { env });
  t.match(listed.stdout, /^greet\t[0-9a-f]{20}\tgreet\.example\.com\/\*$/m);

  const bad = await run(process.execPath, ['--no-node-snapshot', CLI, 'deploy', file, '--name', 'Bad Name'], { env }).catch((err: { code: number; stdout: string }) => err);
  t.equal((bad as { code: number }).code, 1, 'a refused deploy exits 1');
  t.match((bad as { stdout: string }).stdout, /ISO_ERR_DEPLOY_INVALID_NAME/);
});

t.test('serve refuses bad configuration with a clear message', async (t) => {
  const failed = await run(process.execPath, ['--no-node-snapshot', CLI, 'serve', '--port', 'eighty'], {}).catch((err: { code: number; stderr: string }) => err);
  t.equal((failed as { code: number }).code, 1);
  t.match((failed as { stderr: string }).stderr, /ISO_ERR_CONFIG_INVALID: --port: expected an integer/);
  const badAllow = await run(process.execPath, ['--no-node-snapshot', CLI, 'serve', '--fetch-allow', 'db.internal:5432,http://x'], {}).catch((err: { code: number; stderr: string }) => err);
  t.equal((badAllow as { code: number }).code, 1);
  t.match((badAllow as { stderr: string }).stderr, /ISO_ERR_CONFIG_INVALID: --fetch-allow: http:\/\/x: expected a host name or an IP address/);
});

const cli = (args: string[], env: NodeJS.ProcessEnv = process.env) =>
  run(process.execPath, ['--no-node-snapshot', CLI, ...args], { env }).then(
    (ok) => ({ code: 0, stdout: ok.stdout, stderr: ok.stderr }),
    (err: { code: number; stdout: string; stderr: string }) => ({ code: err.code, stdout: err.stdout, stderr: err.stderr }),
  );
const TS_APP = join(import.meta.dirname, '..', 'fixtures', 'workers', 'ts-app', 'index.ts');

t.test('deploy bundles a multi-file TypeScript worker with esbuild', async (t) => {
  const server = await sharedServer();
  const env = { ...process.env, ISOLANE_ADMIN_URL: server.adminUrl, ISOLANE_ADMIN_TOKEN: TOKEN };
  const outdir = join(t.testdir(), 'dist');
  const deployed = await cli(['deploy', TS_APP, '--name', 'ts-app', '--route', 'ts.example.com/*', '--var', 'GREETING=Hello', '--secret', 'API_KEY=s3cret', '--outdir', outdir], env);
  t.equal(deployed.code, 0, 'deployed');
  t.equal(deployed.stderr.includes('ERROR'), false, deployed.stderr);
  t.match(JSON.parse(deployed.stdout), { worker: 'ts-app', routes: ['ts.example.com/*'] });
  t.match(deployed.stderr, /bundled .*index\.ts → index\.js/);

  const reply = await send(server, 'ts.example.com', '/hi?who=TypeScript');
  t.equal(reply.status, 200, reply.text);
  t.equal(reply.headers['x-built-with'], 'isolane deploy');
  t.same(reply.json(), { message: 'Hello, TypeScript!', path: '/hi', words: 2, keyLength: 6, version: 'ts-app/1' }, 'the helper module and the bindings');

  const written = readFileSync(join(outdir, 'index.js'), 'utf8');
  t.match(written, /function greet\(env, url\)/, '--outdir has the bundle, helper inlined, types erased');
  t.notMatch(written, /interface|import /);

  const dry = await cli(['deploy', TS_APP, '--name', 'not-uploaded', '--secret', 'API_KEY=hidden-value', '--kv', 'STORE=app-data', '--d1=DB=notes-db', '--dry-run'], env);
  t.equal(dry.code, 0, 'dry run');
  t.same(JSON.parse(dry.stdout).metadata.bindings, [
    { type: 'secret_text', name: 'API_KEY', text: '(hidden)' },
    { type: 'kv_namespace', name: 'STORE', namespace_id: 'app-data' },
    { type: 'd1', name: 'DB', id: 'notes-db' },
  ], '--kv and --d1 bind as the upload metadata has them');
  t.match(JSON.parse(dry.stdout), { dry_run: true, worker: 'not-uploaded', metadata: { main_module: 'index.js' } });
  t.notMatch(dry.stdout, /hidden-value/);
  t.equal((await admin(server, 'GET', '/v1/workers/not-uploaded')).status, 404, '--dry-run uploads nothing');
});

t.test('bundling errors and refused imports exit non-zero with esbuild file:line:col', async (t) => {
  // Nothing is uploaded: the admin URL is never reached.
  const env = { ...process.env, ISOLANE_ADMIN_URL: 'http://127.0.0.1:9', ISOLANE_ADMIN_TOKEN: TOKEN };
  const dir = t.testdir({
    'broken.ts': 'export default {\n  fetch(): Response {\n    return new Response(1 +);\n  },\n};\n',
    'uses-fs.ts': "import { helper } from './helper.ts';\nexport default { fetch: () => new Response(helper()) };\n",
    'helper.ts': "import { DatabaseSync } from 'node:sqlite';\nexport const helper = () => String(new DatabaseSync(':memory:'));\n",
    'bare-path.js': "import path from 'path';\nexport default { fetch: () => new Response(path.join('a', 'b')) };\n",
    'missing.ts': "import { nothing } from './nowhere.ts';\nexport default { fetch: () => new Response(nothing) };\n",
    'plain.js': '// kept as is\nexport default { fetch: () => new Response("plain") };\n',
  });

  // Each is its own process: run them side by side.
  const [broken, fs, bare, missing, noBundleTs, asIs, noName] = await Promise.all([
    cli(['deploy', join(dir, 'broken.ts'), '--name', 'broken'], env),
    cli(['deploy', join(dir, 'uses-fs.ts'), '--name', 'uses-fs'], env),
    cli(['deploy', join(dir, 'bare-path.js'), '--name', 'bare'], env),
    cli(['deploy', join(dir, 'missing.ts'), '--name', 'missing'], env),
    cli(['deploy', join(dir, 'broken.ts'), '--name', 'x', '--no-bundle'], env),
    cli(['deploy', join(dir, 'plain.js'), '--no-bundle', '--dry-run', '--outdir', join(dir, 'out')], env),
    cli(['deploy', join(dir, 'plain.js')], env),
  ]);
  t.equal(broken.code, 1);
  t.match(broken.stderr, /ERROR\] Unexpected "\)"/);
  t.match(broken.stderr, /broken\.ts:3:\d+:/, 'file:line:col');
  t.match(broken.stderr, /bundling failed with 1 error/);
  t.equal(broken.stdout, '');

  t.equal(fs.code, 1);
  t.match(fs.stderr, /Node\.js built-in module "node:sqlite" is not available to this worker: Isolane provides the Workers runtime APIs/);
  t.match(fs.stderr, /helper\.ts:1:\d+:/, 'points at the import in the helper');

  t.equal(bare.code, 1);
  t.match(bare.stderr, /built-in module "path" is not available to this worker: it needs the nodejs_compat compatibility flag/);

  t.equal(missing.code, 1);
  t.match(missing.stderr, /Could not resolve "\.\/nowhere\.ts"/);
  t.match(missing.stderr, /missing\.ts:1:\d+:/);

  t.equal(noBundleTs.code, 1);
  t.match(noBundleTs.stderr, /--no-bundle uploads the file as it is, and .*broken\.ts is TypeScript/);

  t.equal(asIs.code, 0, '--no-bundle --dry-run');
  t.equal(readFileSync(join(dir, 'out', 'plain.js'), 'utf8'), readFileSync(join(dir, 'plain.js'), 'utf8'), '--no-bundle: the bytes as they are');

  t.equal(noName.code, 1);
  t.match(noName.stderr, /deploy needs --name/);
});

t.test('cloudflare:workers, and with --compatibility-flag nodejs_compat the runtime\'s Node.js modules, stay imports of the bundle', async (t) => {
  const server = await sharedServer();
  const env = { ...process.env, ISOLANE_ADMIN_URL: server.adminUrl, ISOLANE_ADMIN_TOKEN: TOKEN };
  const dir = t.testdir({
    'index.ts': "import { Buffer } from 'node:buffer';\nimport path from 'path';\nimport { hex } from './hex.ts';\nexport default { fetch: () => new Response(hex(Buffer.from('hi')) + ' ' + path.join('/a', '../b')) };\n",
    'hex.ts': "import type { Buffer } from 'node:buffer';\nexport const hex = (b: Buffer): string => b.toString('hex');\n",
    'uses-sqlite.ts': "import { DatabaseSync } from 'node:sqlite';\nexport default { fetch: () => new Response(String(new DatabaseSync(':memory:'))) };\n",
    'entry.ts': "import { WorkerEntrypoint } from 'cloudflare:workers';\nexport default class extends WorkerEntrypoint { fetch() { return new Response('entrypoint ' + typeof this.ctx.waitUntil); } }\n",
  });
  const outdir = join(dir, 'out');
  const deployed = await cli(['deploy', join(dir, 'index.ts'), '--name', 'node-cli', '--compatibility-flag', 'nodejs_compat', '--outdir', outdir], env);
  t.equal(deployed.code, 0, deployed.stderr);
  const bundle = readFileSync(join(outdir, 'index.js'), 'utf8');
  t.match(bundle, /from "node:buffer"/, 'node:buffer is left to the runtime');
  t.match(bundle, /from "path"/, 'and so is the bare name, with no npm package of that name installed');
  const reply = await send(server, 'node-cli.localhost');
  t.equal(reply.text, '6869 /b');

  const sqlite = await cli(['deploy', join(dir, 'uses-sqlite.ts'), '--name', 'node-sqlite', '--compatibility-flag', 'nodejs_compat', '--dry-run'], env);
  t.equal(sqlite.code, 1);
  t.match(sqlite.stderr, new RegExp(`"node:sqlite" is not available to this worker: the runtime's Node\\.js built-in modules are ${escapeRegExp(AVAILABLE_BUILTINS)}`));
  const entry = await cli(['deploy', join(dir, 'entry.ts'), '--name', 'entry-cli'], env);
  t.equal(entry.code, 0, `cloudflare:workers needs no flag: ${entry.stderr}`);
  t.equal((await send(server, 'entry-cli.localhost')).text, 'entrypoint function');
  const dry = await cli(['deploy', join(dir, 'index.ts'), '--name', 'x', '--compatibility-flag', 'nodejs_compat', '--dry-run'], env);
  t.match(JSON.parse(dry.stdout), { metadata: { compatibility_flags: ['nodejs_compat'] } }, 'the flag goes into the metadata');
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
