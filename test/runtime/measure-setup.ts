/**
 * Measures what the runtime bundle costs a fresh isolate: new Isolate + createContext + compile +
 * run + boot, without and with V8 code cache (produceCachedData / cachedData), plus the first use
 * of URL (ASCII host, then an IDN host that loads tr46's tables), of streams (web-streams-polyfill
 * loads, then a Response body stream) and of the classes defined on first use (global/lazy-globals.ts).
 *
 *   npm exec -- node --no-node-snapshot test/runtime/measure-setup.ts [iterations]
 *
 * Not a test: numbers depend on the machine. Prints medians and p90s in milliseconds.
 */
import ivm from '../../src/isolates/isolated-vm.ts';
import { buildRuntimeBundle } from '../../src/isolates/runtime-bundle.ts';

/** What compileScript leaves on the Script (isolated-vm's typings omit it). */
type CompileResult = ivm.Script & { cachedData?: ivm.ExternalCopy<ArrayBuffer>; cachedDataRejected?: boolean };

const iterations = Number(process.argv[2] ?? 200);
const { script: code } = await buildRuntimeBundle();

function setup(cachedData?: ivm.ExternalCopy<ArrayBuffer>): { total: number; isolate: ivm.Isolate; context: ivm.Context; rejected: boolean } {
  const start = performance.now();
  const isolate = new ivm.Isolate({ memoryLimit: 128 });
  const context = isolate.createContextSync();
  const script = isolate.compileScriptSync(code, cachedData ? { cachedData, filename: 'isolane:runtime' } : { filename: 'isolane:runtime' });
  script.runSync(context);
  const boot = context.global.getSync('__isolaneBoot', { reference: true }) as ivm.Reference<(host: unknown) => unknown>;
  boot.applySync(undefined, [new ivm.Callback(() => {})], { result: { reference: true } });
  const total = performance.now() - start;
  return { total, isolate, context, rejected: (script as CompileResult).cachedDataRejected === true };
}

function stats(samples: number[]): string {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return `median ${at(0.5).toFixed(2)} ms, p90 ${at(0.9).toFixed(2)} ms, min ${sorted[0]!.toFixed(2)} ms`;
}

// Bare isolate + context, for reference.
const bare: number[] = [];
for (let i = 0; i < iterations; i++) {
  const start = performance.now();
  const isolate = new ivm.Isolate({ memoryLimit: 128 });
  isolate.createContextSync();
  bare.push(performance.now() - start);
  isolate.dispose();
}

const producer = new ivm.Isolate({ memoryLimit: 128 });
const produced = producer.compileScriptSync(code, { produceCachedData: true, filename: 'isolane:runtime' });
const cachedData = (produced as CompileResult).cachedData!;
producer.dispose();

// Each phase runs on its own (isolates disposed at once), so one phase's garbage does not slow another.
const cold: number[] = [];
for (let i = 0; i < iterations; i++) {
  const a = setup();
  cold.push(a.total);
  a.isolate.dispose();
}
const cached: number[] = [];
let rejected = 0;
for (let i = 0; i < iterations; i++) {
  const b = setup(cachedData);
  cached.push(b.total);
  if (b.rejected) rejected++;
  b.isolate.dispose();
}
const firstUrl: number[] = [];
const firstIdn: number[] = [];
const firstStream: number[] = [];
const firstBody: number[] = [];
const firstLazy: number[] = [];
const heap: number[] = [];
for (let i = 0; i < iterations; i++) {
  const b = setup(cachedData);
  let start = performance.now();
  b.isolate.compileScriptSync('new URL("https://example.com/a?b#c").href').runSync(b.context);
  firstUrl.push(performance.now() - start);
  start = performance.now();
  b.isolate.compileScriptSync('new URL("https://bücher.example/").host').runSync(b.context);
  firstIdn.push(performance.now() - start);
  start = performance.now();
  b.isolate.compileScriptSync('new ReadableStream().locked').runSync(b.context);
  firstStream.push(performance.now() - start);
  start = performance.now();
  b.isolate.compileScriptSync('new Response("x").body.locked').runSync(b.context);
  firstBody.push(performance.now() - start);
  start = performance.now();
  b.isolate.compileScriptSync('new AbortController().signal.aborted; new FormData().append("a", new Blob(["b"])); new Event("x").type').runSync(b.context);
  firstLazy.push(performance.now() - start);
  const s = b.isolate.getHeapStatisticsSync();
  heap.push((s.used_heap_size + s.externally_allocated_size) / 1024);
  b.isolate.dispose();
}

console.log(`bundle: ${Buffer.byteLength(code)} bytes minified; code cache ${cachedData.copy().byteLength} bytes`);
console.log(`bare isolate + context:               ${stats(bare)}`);
console.log(`setup without code cache:             ${stats(cold)}`);
console.log(`setup with code cache:                ${stats(cached)} (cache rejected ${rejected}/${iterations})`);
console.log(`first new URL() (ASCII host):         ${stats(firstUrl)}`);
console.log(`first IDN host (loads tr46 tables):   ${stats(firstIdn)}`);
console.log(`first new ReadableStream():           ${stats(firstStream)}`);
console.log(`then first Response.body:             ${stats(firstBody)}`);
console.log(`first Event/Abort/Blob/FormData:      ${stats(firstLazy)}`);
console.log(`heap after all, KB:                   ${stats(heap).replaceAll(' ms', '')}`);
