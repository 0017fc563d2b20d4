/**
 * Vercel's edge-runtime (npm `edge-runtime`, installed on first use into bench/.peers/edge-runtime/):
 * Web APIs in a Node `vm` context, served by its own node:http server. It runs service-worker syntax,
 * so the same ES module is bundled to a script by esbuild and registered with
 * `addEventListener('fetch')`. One Node process, one thread.
 */
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { build } from 'esbuild';
import { spawnChild, waitForHttp, type Peer } from './common.ts';
import { ensurePeerPackage } from './install.ts';

export const EDGE_RUNTIME_VERSION = '4.0.1';

/** The ES module as a classic script that answers fetch events with its default export's fetch. */
export async function asServiceWorker(source: string): Promise<string> {
  const result = await build({ stdin: { contents: source, loader: 'js' }, bundle: true, format: 'iife', globalName: '__worker', platform: 'neutral', write: false, logLevel: 'silent' });
  return `${result.outputFiles[0]!.text}
addEventListener('fetch', (event) => {
  const ctx = { waitUntil: (p) => event.waitUntil(p), passThroughOnException() {} };
  event.respondWith(__worker.default.fetch(event.request, {}, ctx));
});`;
}

export async function startEdgeRuntime(source: string, options: { path?: string; log?: (line: string) => void } = {}): Promise<Peer> {
  const dir = await ensurePeerPackage('edge-runtime', 'edge-runtime', EDGE_RUNTIME_VERSION, options.log ?? (() => {}));
  const script = await asServiceWorker(source);
  const entry = pathToFileURL(join(dir, 'node_modules', 'edge-runtime', 'dist', 'index.js')).href;
  const code = `const { EdgeRuntime, runServer } = await import(${JSON.stringify(entry)});
    const runtime = new EdgeRuntime({ initialCode: ${JSON.stringify(script)} });
    const server = await runServer({ runtime, port: 0, host: '127.0.0.1' });
    console.log(JSON.stringify({ type: 'ready', url: server.url }));`;
  const child = spawnChild(process.execPath, ['--input-type=module', '-e', code], { cwd: dir });
  const url = await new Promise<string>((resolve, reject) => {
    let buffer = '';
    child.child.stdout!.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      const match = /\{"type":"ready","url":"([^"]+)"\}/.exec(buffer);
      if (match) resolve(match[1]!.replace(/\/$/, '').replace('localhost', '127.0.0.1'));
    });
    child.exited.then(() => reject(new Error(`edge-runtime exited: ${child.output().slice(-1500)}`)));
  });
  await waitForHttp(child, url, 'edge', options.path ?? '/');
  return { name: 'edge-runtime', url, host: 'edge', pid: child.child.pid!, version: `edge-runtime ${EDGE_RUNTIME_VERSION}`, describe: 'one Node process, one thread; the module as a fetch-event script in a vm context', stop: () => child.stop() };
}
