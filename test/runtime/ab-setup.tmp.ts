// Temporary A/B: fresh-isolate setup with the HEAD runtime bundle vs the working tree's, interleaved.
import ivm from 'isolated-vm';
import { bundleRuntime as bundleAfter } from '../../src/isolates/runtime-bundle.ts';
// @ts-ignore
import { bundleRuntime as bundleBefore } from '/tmp/before/src/isolates/runtime-bundle.ts';
type CR = ivm.Script & { cachedData?: ivm.ExternalCopy<ArrayBuffer> };
const n = Number(process.argv[2] ?? 200);
const codes = { before: await bundleBefore(), after: await bundleAfter() } as Record<string, string>;
const caches: Record<string, ivm.ExternalCopy<ArrayBuffer>> = {};
for (const k in codes) {
  const p = new ivm.Isolate({ memoryLimit: 128 });
  caches[k] = (p.compileScriptSync(codes[k]!, { produceCachedData: true, filename: 'isolane:runtime' }) as CR).cachedData!;
  p.dispose();
}
function setup(code: string, cachedData?: ivm.ExternalCopy<ArrayBuffer>) {
  const start = performance.now();
  const isolate = new ivm.Isolate({ memoryLimit: 128 });
  const context = isolate.createContextSync();
  const script = isolate.compileScriptSync(code, cachedData ? { cachedData, filename: 'isolane:runtime' } : { filename: 'isolane:runtime' });
  script.runSync(context);
  const boot = context.global.getSync('__isolaneBoot', { reference: true }) as ivm.Reference<(h: unknown) => unknown>;
  boot.applySync(undefined, [new ivm.Callback(() => {})], { result: { reference: true } });
  const t = performance.now() - start;
  return { t, isolate, context };
}
const res: Record<string, number[]> = {};
const add = (k: string, v: number) => (res[k] ??= []).push(v);
for (let i = 0; i < n; i++) {
  for (const k of i % 2 ? ['before', 'after'] : ['after', 'before']) {
    const a = setup(codes[k]!); add(`${k} nocache`, a.t); a.isolate.dispose();
    const b = setup(codes[k]!, caches[k]); add(`${k} cache`, b.t);
    if (k === 'after') {
      const s = performance.now();
      b.isolate.compileScriptSync('1+1').runSync(b.context); const s0 = performance.now(); b.isolate.compileScriptSync('2+2').runSync(b.context); add('after control script', performance.now() - s0); b.isolate.compileScriptSync('new ReadableStream().locked').runSync(b.context);
      add('after first ReadableStream', performance.now() - s);
      const s2 = performance.now();
      b.isolate.compileScriptSync('new Response("x").body.locked').runSync(b.context);
      add('after then Response.body', performance.now() - s2);
    }
    b.isolate.dispose();
  }
}
const med = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return `median ${s[s.length >> 1]!.toFixed(3)} p90 ${s[Math.floor(s.length * 0.9)]!.toFixed(3)} min ${s[0]!.toFixed(3)}`; };
for (const k in codes) console.log(`${k}: bundle ${Buffer.byteLength(codes[k]!)} bytes, cache ${caches[k]!.copy().byteLength} bytes`);
for (const k of Object.keys(res).sort()) console.log(`${k.padEnd(28)} ${med(res[k]!)}`);
