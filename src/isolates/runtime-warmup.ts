/**
 * The runtime's code cache, made after the request path has run once. V8's cache holds the functions
 * compiled when it is made: made right after compiling (as isolated-vm does), it has only the bundle's
 * top level, and a cold isolate's first request compiles URL parsing, Headers, Response.json … on the
 * spot (~3 ms for the first `new URL()`). Compiling the same source again in an isolate that has run a
 * request hits V8's in-isolate compilation cache, whose functions are compiled by then: that cache is
 * the one kept. The same goes for the web-streams chunk, which the warm-up worker loads by passing one
 * response's body to another (as Hono's middleware does), and for the web-crypto and whatwg-url
 * chunks, which it loads once the runtime's own cache is made. Built by the host from the host's own
 * bundle, never from tenant code.
 */
import ivm from './isolated-vm.ts';
import { compileResult, rememberCache } from './code-cache.ts';
import type { RuntimeBundle } from './runtime-bundle.ts';
import { recacheChunk, runChunk } from './runtime-chunks.ts';

/**
 * A worker doing what most do: parse the URL, read headers and a JSON body, answer JSON and text. The
 * request's URL takes the parser's fast path (runtime/url/simple-url.ts). whatwg-url's full parser runs
 * only in the `/chunks` request, after the runtime's cache is made: every isolate loads that cache, and
 * the state machine's compiled functions in it cost each ~63 KB of heap; they are in the whatwg-url
 * chunk's cache instead, which only an isolate that needs the parser loads.
 */
const WARMUP_WORKER = `export default {
  async fetch(request) {
    const url = new URL(request.url);
    const query = Object.fromEntries(url.searchParams);
    const type = request.headers.get('content-type');
    const body = request.method === 'POST' ? await request.json() : null;
    if (url.pathname === '/text') return new Response('ok', { headers: { 'content-type': 'text/plain' } });
    if (url.pathname === '/stream') {
      const inner = new Response('streamed', { headers: { 'content-type': 'text/plain' } });
      return new Response(inner.body, inner);
    }
    if (url.pathname === '/chunks') {
      await crypto.subtle.importKey('raw', new Uint8Array(32), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
      const parsed = new URL('../b/./c?q=a b#f', 'HTTP://user:pw@Example.test:8080/a/');
      parsed.searchParams.append('x', 'y z');
      return new Response(parsed.href, { status: 200 });
    }
    return Response.json({ path: url.pathname, href: url.href, query, type, body }, { status: 200 });
  },
};`;

export function warmRuntimeCache(runtime: RuntimeBundle): void {
  const isolate = new ivm.Isolate({ memoryLimit: 64 });
  try {
    const context = isolate.createContextSync();
    isolate.compileScriptSync(runtime.script, { filename: 'isolane:runtime' }).runSync(context);
    const boot = context.global.getSync('__isolaneBoot', { reference: true }) as ivm.Reference<(...args: unknown[]) => unknown>;
    const loaded: string[] = [];
    const host = new ivm.Callback((op: string, name: string) => {
      if (op !== 'runtimeChunk') return;
      runChunk(isolate, context, dispatch, name, runtime.chunks[name]);
      loaded.push(name);
    });
    const dispatch = boot.applySync(undefined, [host], { result: { reference: true } }) as unknown as ivm.Reference<(...args: unknown[]) => unknown>;
    const worker = isolate.compileModuleSync(WARMUP_WORKER, { filename: 'warmup.js' });
    worker.instantiateSync(context, () => {
      throw new Error('the warmup worker imports nothing');
    });
    worker.evaluateSync({ timeout: 1000 });
    const call = (...args: unknown[]) => dispatch.applySync(undefined, args, { arguments: { copy: true }, timeout: 1000 });
    call('bindings', '{"NAME":"warmup"}', '', false);
    call('install', worker.namespace.derefInto());
    call('request', 1, 'GET', 'http://warmup.localhost/a?b=c', 'host\nwarmup.localhost\naccept\n*/*', null);
    call('request', 2, 'POST', 'http://warmup.localhost/b', 'host\nwarmup.localhost\ncontent-type\napplication/json', new TextEncoder().encode('{"a":1}').buffer);
    call('request', 3, 'GET', 'http://warmup.localhost/text', 'host\nwarmup.localhost', null);
    call('request', 4, 'GET', 'http://warmup.localhost/stream', 'host\nwarmup.localhost', null);
    const again = isolate.compileScriptSync(runtime.script, { filename: 'isolane:runtime', produceCachedData: true });
    rememberCache('runtime', compileResult(again));
    // After the runtime's cache is made, so that only the chunks' caches hold what they compile: the
    // web-crypto chunk's (an HMAC key's import needs no host call; a signature would) and whatwg-url's
    // (a relative, non-canonical URL and a query the fast paths do not take).
    call('request', 5, 'GET', 'http://warmup.localhost/chunks', 'host\nwarmup.localhost', null);
    for (const name of loaded) recacheChunk(isolate, name, runtime.chunks[name]!);
  } finally {
    isolate.dispose();
  }
}
