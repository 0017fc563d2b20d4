/**
 * `isolane serve | deploy | workers | bench`: the server, a thin client of the admin API so nobody has to
 * hand-write multipart, and the benchmark harness.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { adminClient } from './cli/admin-client.ts';
import { loadConfig, SETTINGS } from './config/config.ts';
import { isIsolaneError } from './errors.ts';

const SHUTDOWN_GRACE_MS = 10_000;

const USAGE = `usage:
  isolane serve [--port 8080] [--admin-port 8081] [--host 127.0.0.1] [--data-dir ./data] ...
  isolane deploy <entry> --name <worker> [--route <pattern>]... [--var KEY=VALUE]... [--secret KEY=VALUE]...
                 [--kv BINDING=NAMESPACE_ID]... [--d1 BINDING=DATABASE_ID]...
                 [--cpu-ms N] [--memory-mb N] [--wall-ms N] [--no-bundle] [--minify] [--outdir <dir>] [--dry-run]
  isolane workers
  isolane bench [--only <scenario,...>] [--quick] [--rounds N] [--seconds N]   (the harness in bench/, from a checkout)

deploy bundles <entry> (.ts, .tsx, .js, .mjs; its imports and npm packages) into one ES module with esbuild,
as wrangler does, and uploads it. Node built-ins (node:fs, ...) are refused.
  --no-bundle      upload <entry> as it is (one JavaScript module)
  --minify         minify the bundle
  --outdir <dir>   also write the module to <dir>
  --dry-run        bundle (and write with --outdir) but upload nothing; --name is optional

deploy and workers talk to the admin API at ISOLANE_ADMIN_URL (default http://127.0.0.1:<ISOLANE_ADMIN_PORT or 8081>)
with ISOLANE_ADMIN_TOKEN (default: the token kept in <ISOLANE_DATA_DIR or ./data>/admin-token).

serve options (each also an environment variable):
${SETTINGS.map((s) => `  --${s.flag.padEnd(24)} ${s.env.padEnd(30)} ${s.help}`).join('\n')}`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'serve': {
      const config = loadConfig(process.env, rest);
      const { startIsolane } = await import('./main.ts'); // only serve loads the server
      const server = await startIsolane(config);
      // SIGTERM/SIGINT: stop accepting, let in-flight requests finish (up to 10 s), flush logs, exit 0.
      const stop = () => {
        void server.close(SHUTDOWN_GRACE_MS).then(() => process.exit(0));
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      return -1;
    }
    case 'deploy':
      // Loaded on demand: serve never needs esbuild.
      return (await import('./cli/deploy.ts')).deployCommand(rest);
    case 'workers':
      return workersCommand();
    case 'bench':
      return benchCommand(rest);
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

/** The harness runs in a process of its own: it starts servers and peers and reports on stdout. */
function benchCommand(args: string[]): Promise<number> {
  const runner = fileURLToPath(new URL('../bench/run.ts', import.meta.url));
  const child = spawn(process.execPath, ['--no-node-snapshot', runner, ...args], { stdio: 'inherit' });
  return new Promise((resolve) => child.once('exit', (code) => resolve(code ?? 1)));
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
