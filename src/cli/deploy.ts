/**
 * `isolane deploy <entry>`: bundle the entry point (unless --no-bundle), optionally write the bundle
 * (--outdir), and upload it in Cloudflare's multipart shape (unless --dry-run).
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { adminClient } from './admin-client.ts';
import { BundleError, bundleWorker, TYPESCRIPT, writeModule } from './bundle.ts';
import { hasNodeCompat } from '../isolates/builtin-modules.ts';

export interface DeployArgs {
  file: string;
  name: string | undefined;
  routes: string[];
  /** In the upload metadata's shape. */
  bindings: ({ type: 'plain_text' | 'secret_text'; name: string; text: string } | { type: 'kv_namespace'; name: string; namespace_id: string } | { type: 'd1'; name: string; id: string })[];
  limits: Record<string, number>;
  compatibilityFlags: string[];
  bundle: boolean;
  minify: boolean;
  outdir: string | undefined;
  dryRun: boolean;
}

const LIMIT_FLAGS = new Set(['--cpu-ms', '--memory-mb', '--wall-ms']);

/** `--flag value` or `--flag=value`; flags may come before or after the file. */
export function parseDeployArgs(argv: string[]): DeployArgs {
  const args: Omit<DeployArgs, 'file'> & { file?: string } = { name: undefined, routes: [], bindings: [], limits: {}, compatibilityFlags: [], bundle: true, minify: false, outdir: undefined, dryRun: false };
  for (let i = 0; i < argv.length; i++) {
    let flag = argv[i]!;
    let inline: string | undefined;
    const eq = flag.indexOf('=');
    if (flag.startsWith('--') && eq > 2) [flag, inline] = [flag.slice(0, eq), flag.slice(eq + 1)];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    const pair = (): [string, string] => {
      const text = value();
      const at = text.indexOf('=');
      if (at < 1) throw new Error(`${flag} takes NAME=VALUE`);
      return [text.slice(0, at), text.slice(at + 1)];
    };
    const binding = (type: 'plain_text' | 'secret_text') => {
      const [name, text] = pair();
      args.bindings.push({ type, name, text });
    };
    if (flag === '--name') args.name = value();
    else if (flag === '--route') args.routes.push(value());
    else if (flag === '--var') binding('plain_text');
    else if (flag === '--secret') binding('secret_text');
    else if (flag === '--kv') {
      const [name, namespace] = pair();
      args.bindings.push({ type: 'kv_namespace', name, namespace_id: namespace });
    } else if (flag === '--d1') {
      const [name, database] = pair();
      args.bindings.push({ type: 'd1', name, id: database });
    }
    else if (LIMIT_FLAGS.has(flag)) {
      const n = Number(value());
      if (!Number.isFinite(n) || n <= 0) throw new Error(`${flag} takes a positive number`);
      args.limits[flag.slice(2).replace('-', '_')] = n;
    } else if (flag === '--compatibility-flag') args.compatibilityFlags.push(value());
    else if (flag === '--no-bundle') args.bundle = false;
    else if (flag === '--minify') args.minify = true;
    else if (flag === '--outdir') args.outdir = value();
    else if (flag === '--dry-run') args.dryRun = true;
    else if (!flag.startsWith('--') && args.file === undefined) args.file = flag;
    else throw new Error(`unexpected argument ${argv[i]}`);
  }
  if (!args.file) throw new Error('deploy needs a file');
  if (!args.name && !args.dryRun) throw new Error('deploy needs --name (or --dry-run)');
  if (!args.bundle && TYPESCRIPT.test(args.file)) throw new Error(`--no-bundle uploads the file as it is, and ${args.file} is TypeScript: leave --no-bundle out to bundle it`);
  if (!args.bundle && args.minify) throw new Error('--minify needs bundling: leave --no-bundle out');
  return { ...args, file: args.file };
}

export async function deployCommand(argv: string[]): Promise<number> {
  const args = parseDeployArgs(argv);
  let mainModule: string;
  let content: string | Uint8Array;
  if (args.bundle) {
    try {
      const bundle = await bundleWorker(args.file, { minify: args.minify, nodeCompat: hasNodeCompat({ compatibilityFlags: args.compatibilityFlags, compatibilityDate: null }) });
      for (const warning of bundle.warnings) process.stderr.write(warning);
      ({ mainModule, content } = bundle);
    } catch (err) {
      if (!(err instanceof BundleError)) throw err;
      process.stderr.write(`${err.formatted}${args.file}: ${err.message}\n`);
      return 1;
    }
    console.error(`bundled ${args.file} → ${mainModule} (${kib(content)})`);
  } else {
    mainModule = basename(args.file);
    content = await readFile(args.file);
  }
  if (args.outdir) console.error(`wrote ${await writeModule(args.outdir, mainModule, content)}`);

  const metadata = {
    main_module: mainModule,
    bindings: args.bindings,
    routes: args.routes,
    ...(Object.keys(args.limits).length ? { limits: args.limits } : {}),
    ...(args.compatibilityFlags.length ? { compatibility_flags: args.compatibilityFlags } : {}),
  };
  if (args.dryRun) {
    const shown = { ...metadata, bindings: metadata.bindings.map((b) => (b.type === 'secret_text' ? { ...b, text: '(hidden)' } : b)) };
    console.log(JSON.stringify({ dry_run: true, worker: args.name ?? null, bytes: byteLength(content), metadata: shown }, null, 2));
    return 0;
  }
  const form = new FormData();
  form.append('metadata', JSON.stringify(metadata));
  form.append(mainModule, new Blob([content], { type: 'application/javascript+module' }), mainModule);
  const { url, token } = await adminClient();
  const res = await fetch(`${url}/v1/workers/${encodeURIComponent(args.name!)}`, { method: 'PUT', body: form, headers: { authorization: `Bearer ${token}` } });
  console.log(JSON.stringify(await res.json(), null, 2));
  return res.ok ? 0 : 1;
}

function byteLength(content: string | Uint8Array): number {
  return typeof content === 'string' ? Buffer.byteLength(content) : content.byteLength;
}

function kib(content: string | Uint8Array): string {
  return `${(byteLength(content) / 1024).toFixed(1)} KiB`;
}
