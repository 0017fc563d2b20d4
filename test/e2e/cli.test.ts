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

t.test("packages are bundled as wrangler bundles them: their browser field first, and under nodejs_compat CommonJS requires of built-ins", async (t) => {
  const server = await sharedServer();
  const env = { ...process.env, ISOLANE_ADMIN_URL: server.adminUrl, ISOLANE_ADMIN_TOKEN: TOKEN };
  const dir = t.testdir({
    node_modules: {
      // Its Node entry needs node:stream (as @whatwg-node/fetch's does); its browser entry does not.
      dual: {
        'package.json': JSON.stringify({ name: 'dual', main: 'node.js', browser: 'browser.js' }),
        'node.js': "require('node:stream');\nmodule.exports = 'node entry';\n",
        'browser.js': "module.exports = 'browser entry';\n",
      },
      // A file the browser map replaces with nothing (object-inspect does this with its util.inspect).
      mapped: {
        'package.json': JSON.stringify({ name: 'mapped', main: 'index.js', browser: { './inspect.js': false } }),
        'index.js': "const inspect = require('./inspect.js');\nmodule.exports = typeof inspect === 'function' ? 'with inspect' : 'without inspect';\n",
        'inspect.js': "module.exports = require('util').inspect;\n",
      },
      // CommonJS that requires built-ins, one of them only inside a try.
      requirer: {
        'package.json': JSON.stringify({ name: 'requirer', main: 'index.js' }),
        'index.js': "const { EventEmitter } = require('events');\nconst util = require('node:util');\nconst fs = require('fs');\nlet sqlite;\ntry { sqlite = require('node:sqlite'); } catch (e) { sqlite = e.message; }\nmodule.exports = () => [typeof EventEmitter, util.format('%s=%d', 'n', 1), typeof fs.readFileSync, sqlite];\n",
      },
    },
    'browser.ts': "import dual from 'dual';\nimport mapped from 'mapped';\nexport default { fetch: () => new Response(dual + ', ' + mapped) };\n",
    'requires.ts': "import facts from 'requirer';\nexport default { fetch: () => Response.json(facts()) };\n",
  });
  const browser = await cli(['deploy', join(dir, 'browser.ts'), '--name', 'browser-field'], env);
  t.equal(browser.code, 0, browser.stderr);
  t.equal((await send(server, 'browser-field.localhost')).text, 'browser entry, without inspect');

  const refused = await cli(['deploy', join(dir, 'requires.ts'), '--name', 'requirer', '--dry-run'], env);
  t.equal(refused.code, 1, 'without nodejs_compat a required built-in is refused, as before');
  t.match(refused.stderr, /built-in module "node:util" is not available to this worker: it needs the nodejs_compat compatibility flag/);
  const requires = await cli(['deploy', join(dir, 'requires.ts'), '--name', 'requirer', '--compatibility-flag', 'nodejs_compat'], env);
  t.equal(requires.code, 0, requires.stderr);
  const [emitter, formatted, readFileSync, sqlite] = (await send(server, 'requirer.localhost')).json() as string[];
  t.same([emitter, formatted, readFileSync], ['function', 'n=1', 'function'], "require() of the runtime's built-ins gives the modules (fs: Workers' stub)");
  t.match(sqlite, /^Node\.js built-in module "node:sqlite" is not available to this worker/, 'and of one it does not have, an error when it runs');
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
