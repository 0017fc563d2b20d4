import { build } from 'esbuild';
import path from 'node:path';
const r = await build({ entryPoints: ['/work/main/runtime/index.ts'], bundle: true, write: false, format: 'iife', platform: 'neutral', target: 'es2024', mainFields: ['main','module'], minify: true, metafile: true, logLevel: 'silent',
 plugins: [{name:'r', setup(b){ const R='/work/main/runtime/';
  b.onResolve({filter:/^\.\/encoding(\.js)?$/}, a=>/whatwg-url[\\/]lib/.test(a.importer)?{path:R+'url/whatwg-url-encoding.ts'}:undefined);
  b.onResolve({filter:/^@exodus\/bytes\/whatwg\.js$/}, a=>({path:R+'url/percent-encode-after-encoding.ts'}));
  b.onResolve({filter:/^@exodus\/bytes\/encoding\.js$/}, a=>({path:R+'url/no-legacy-encodings.ts'}));
  b.onResolve({filter:/^tr46$/}, a=>/whatwg-url/.test(a.importer)?{path:R+'url/tr46-lazy.ts'}:undefined);
 }}]});
const out = Object.values(r.metafile.outputs)[0];
const rows = Object.entries(out.inputs).map(([k,v])=>[v.bytesInOutput,k]).sort((a,b)=>b[0]-a[0]);
for (const [b,k] of rows) console.log(String(b).padStart(8), k);
