/** `isolane deploy` and `isolane workers` against a running server. */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { send, startServer, TOKEN } from '../helpers/server.ts';

const run = promisify(execFile);
const CLI = join(import.meta.dirname, '..', '..', 'src', 'cli.ts');

t.test('deploy a file with routes and vars, then list workers', async (t) => {
  const server = await startServer(t);
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
});
