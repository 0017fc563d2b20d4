/**
 * The Node baselines, each one child process with one thread serving (as `node server.js` would):
 * - `startBareNode()`: a hand-written node:http hello world, the floor for "how fast can Node answer";
 * - `startNodeAdapter(source)`: the same worker ES module Isolane runs, served by Hono's Node adapter
 *   (@hono/node-server on node:http, which turns each request into a Request and calls `fetch`).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT } from '../isolane-server.ts';
import { packageVersion } from '../machine.ts';
import { spawnChild, waitForHttp, type Peer } from './common.ts';

function readyPort(child: ReturnType<typeof spawnChild>): Promise<number> {
  return new Promise((resolve, reject) => {
    let buffer = '';
    const onData = (chunk: Buffer) => {
      buffer += chunk.toString();
      const match = /\{"type":"ready","port":(\d+)\}/.exec(buffer);
      if (match) {
        child.child.stdout!.off('data', onData);
        resolve(Number(match[1]));
      }
    };
    child.child.stdout!.on('data', onData);
    child.exited.then(() => reject(new Error(`exited before listening: ${child.output()}`)));
  });
}

export async function startBareNode(body = 'Hello World!'): Promise<Peer> {
  const code = `const http = require('node:http');
    const body = ${JSON.stringify(body)};
    const server = http.createServer((req, res) => { res.writeHead(200, { 'content-type': 'text/plain;charset=UTF-8' }); res.end(body); });
    server.keepAliveTimeout = 60000;
    server.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ type: 'ready', port: server.address().port })));`;
  const child = spawnChild(process.execPath, ['-e', code], { cwd: ROOT });
  const port = await readyPort(child);
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(child, url, 'bare');
  return { name: 'bare node:http', url, host: 'bare', pid: child.child.pid!, version: process.version, describe: 'one process, one thread; hand-written response', stop: () => child.stop() };
}

export async function startNodeAdapter(source: string, path = '/'): Promise<Peer> {
  const dir = mkdtempSync(join(tmpdir(), 'isolane-bench-node-'));
  const modulePath = join(dir, 'worker.mjs');
  writeFileSync(modulePath, source);
  const adapter = import.meta.resolve('@hono/node-server');
  const code = `const { serve } = await import(${JSON.stringify(adapter)});
    const worker = (await import(${JSON.stringify(pathToFileURL(modulePath).href)})).default;
    const ctx = { waitUntil() {}, passThroughOnException() {} };
    const server = serve({ fetch: (request) => worker.fetch(request, {}, ctx), port: 0, hostname: '127.0.0.1' }, (info) => console.log(JSON.stringify({ type: 'ready', port: info.port })));
    server.keepAliveTimeout = 60000;`;
  const child = spawnChild(process.execPath, ['--input-type=module', '-e', code], { cwd: ROOT });
  try {
    const port = await readyPort(child);
    const url = `http://127.0.0.1:${port}`;
    await waitForHttp(child, url, 'node', path);
    return {
      name: 'node:http + Hono adapter',
      url,
      host: 'node',
      pid: child.child.pid!,
      version: `${process.version}, @hono/node-server ${packageVersion('@hono/node-server')}`,
      describe: 'one process, one thread; the same worker module via @hono/node-server',
      async stop() {
        await child.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await child.stop();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}
