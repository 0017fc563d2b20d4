/**
 * `isolane serve | deploy | workers`: the server, and a thin client of the admin API so nobody has to
 * hand-write multipart.
 */
import { readFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { loadConfig, SETTINGS } from './config/config.ts';
import { isIsolaneError } from './errors.ts';
import { startIsolane } from './main.ts';

const SHUTDOWN_GRACE_MS = 10_000;

const USAGE = `usage:
  isolane serve [--port 8080] [--admin-port 8081] [--host 127.0.0.1] [--data-dir ./data] ...
  isolane deploy <file.js> --name <worker> [--route <pattern>]... [--var KEY=VALUE]... [--secret KEY=VALUE]...
                 [--cpu-ms N] [--memory-mb N] [--wall-ms N]
  isolane workers

deploy and workers talk to the admin API at ISOLANE_ADMIN_URL (default http://127.0.0.1:<ISOLANE_ADMIN_PORT or 8081>)
with ISOLANE_ADMIN_TOKEN (default: the token kept in <ISOLANE_DATA_DIR or ./data>/admin-token).

serve options (each also an environment variable):
${SETTINGS.map((s) => `  --${s.flag.padEnd(24)} ${s.env.padEnd(30)} ${s.help}`).join('\n')}`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'serve': {
      const server = await startIsolane(loadConfig(process.env, rest));
      // SIGTERM/SIGINT: stop accepting, let in-flight requests finish (up to 10 s), flush logs, exit 0.
      const stop = () => {
        void server.close(SHUTDOWN_GRACE_MS).then(() => process.exit(0));
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      return -1;
    }
    case 'deploy':
      return deployCommand(rest);
    case 'workers':
      return workersCommand();
    case undefined:
    case 'help':
    case '--help':
      console.log(USAGE);
      return command === undefined ? 2 : 0;
    default:
      console.error(`unknown command ${command}\n\n${USAGE}`);
      return 2;
  }
}

async function adminClient(): Promise<{ url: string; token: string }> {
  const url = process.env.ISOLANE_ADMIN_URL ?? `http://127.0.0.1:${process.env.ISOLANE_ADMIN_PORT ?? 8081}`;
  const token = process.env.ISOLANE_ADMIN_TOKEN ?? (await readFile(join(resolve(process.env.ISOLANE_DATA_DIR ?? 'data'), 'admin-token'), 'utf8').catch(() => '')).trim();
  if (!token) throw new Error('no admin token: set ISOLANE_ADMIN_TOKEN or run from the directory whose data/admin-token the server wrote');
  return { url, token };
}

async function deployCommand(args: string[]): Promise<number> {
  let file: string | undefined;
  let name: string | undefined;
  const routes: string[] = [];
  const bindings: { type: string; name: string; text: string }[] = [];
  const limits: Record<string, number> = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const value = () => {
      const v = args[++i];
      if (v === undefined) throw new Error(`${arg} needs a value`);
      return v;
    };
    const binding = (type: string) => {
      const pair = value();
      const eq = pair.indexOf('=');
      if (eq < 1) throw new Error(`${arg} takes KEY=VALUE`);
      bindings.push({ type, name: pair.slice(0, eq), text: pair.slice(eq + 1) });
    };
    if (arg === '--name') name = value();
    else if (arg === '--route') routes.push(value());
    else if (arg === '--var') binding('plain_text');
    else if (arg === '--secret') binding('secret_text');
    else if (arg === '--cpu-ms' || arg === '--memory-mb' || arg === '--wall-ms') limits[arg.slice(2).replace('-', '_')] = Number(value());
    else if (!arg.startsWith('--') && file === undefined) file = arg;
    else throw new Error(`unexpected argument ${arg}`);
  }
  if (!file || !name) throw new Error('deploy needs a file and --name');
  const source = await readFile(file);
  const main = basename(file);
  const form = new FormData();
  form.append('metadata', JSON.stringify({ main_module: main, bindings, routes, ...(Object.keys(limits).length ? { limits } : {}) }));
  form.append(main, new Blob([source], { type: 'application/javascript+module' }), main);
  const { url, token } = await adminClient();
  const res = await fetch(`${url}/v1/workers/${encodeURIComponent(name)}`, { method: 'PUT', body: form, headers: { authorization: `Bearer ${token}` } });
  console.log(JSON.stringify(await res.json(), null, 2));
  return res.ok ? 0 : 1;
}

async function workersCommand(): Promise<number> {
  const { url, token } = await adminClient();
  const res = await fetch(`${url}/v1/workers`, { headers: { authorization: `Bearer ${token}` } });
  const body = (await res.json()) as { workers?: { name: string; activeVersion: string; routes: string[] }[] };
  if (!res.ok || !body.workers) {
    console.error(JSON.stringify(body));
    return 1;
  }
  for (const w of body.workers) console.log(`${w.name}\t${w.activeVersion}\t${w.routes.join(' ')}`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (err: unknown) => {
    console.error(isIsolaneError(err) ? `${err.code}: ${err.message}` : err instanceof Error ? err.message : String(err));
    process.exitCode = 1;
  },
);
