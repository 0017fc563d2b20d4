import { TestWorker } from '../test/runtime/harness.ts';
const w = await TestWorker.create();
console.log(w.deployModule(`export default { async fetch(req, env, ctx) { console.log('hi', {a: 1, b: [1,2,'x']}, req.headers); ctx.waitUntil(new Promise(r => setTimeout(r, 10))); return new Response('hello ' + req.url + ' ' + new URL(req.url).pathname, {headers: {'x-a': 'b'}}) } }`));
console.log(w.fetch('http://example.com/foo?x=1', {headers: {'User-Agent': 'test'}}));
console.log(w.calls);
