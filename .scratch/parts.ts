import ivm from 'isolated-vm';
import { readFileSync } from 'node:fs';
const code = process.argv[2] ? readFileSync(process.argv[2], 'utf8') : (await import('../src/isolates/runtime-bundle.ts').then(m => m.buildRuntimeBundle()));
const p = new ivm.Isolate({ memoryLimit: 128 });
const cd = p.compileScriptSync(code, { produceCachedData: true }).cachedData!;
console.log('size', code.length, 'cache', cd.copy().byteLength);
const parts: Record<string, number[]> = { create: [], ctx: [], compile: [], run: [], compileC: [], runC: [] };
for (let i = 0; i < 60; i++) {
  for (const c of [false, true]) {
    let t = performance.now();
    const iso = new ivm.Isolate({ memoryLimit: 128 });
    let t2 = performance.now(); if (!c) parts.create.push(t2 - t); t = t2;
    const ctx = iso.createContextSync();
    t2 = performance.now(); if (!c) parts.ctx.push(t2 - t); t = t2;
    const s = iso.compileScriptSync(code, c ? { cachedData: cd } : {});
    t2 = performance.now(); parts[c ? 'compileC' : 'compile'].push(t2 - t); t = t2;
    s.runSync(ctx);
    t2 = performance.now(); parts[c ? 'runC' : 'run'].push(t2 - t);
    iso.dispose();
  }
}
for (const [k, v] of Object.entries(parts)) { v.sort((a, b) => a - b); console.log(k.padEnd(10), v[v.length >> 1].toFixed(2)); }
