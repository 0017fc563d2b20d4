/**
 * MIME types (runtime/mime/) inside a real isolate: fetch() of data: URLs, answered without a host call,
 * and the types of Blobs from Body's blob() and from the Blob and File constructors. The WPT data for both
 * runs in test/wpt/conformance.test.ts.
 */
import t from 'tap';
import { Evaluator, TestWorker } from './harness.ts';

const ev = await Evaluator.create();
t.teardown(() => ev.dispose());

t.test('fetch() of a data: URL is answered in the isolate', async (t) => {
  const worker = await TestWorker.create();
  t.teardown(() => worker.dispose());
  worker.deployModule(`
    export default {
      async fetch() {
        const response = await fetch('data:text/plain;charset=utf-8,hello%20world#fragment');
        return Response.json({
          status: response.status,
          statusText: response.statusText,
          ok: response.ok,
          type: response.type,
          url: response.url,
          redirected: response.redirected,
          headers: [...response.headers],
          text: await response.text(),
        });
      },
    };
  `);
  const answer = worker.fetch('https://example.test/');
  t.same(JSON.parse(answer.body!), {
    status: 200,
    statusText: 'OK',
    ok: true,
    type: 'basic',
    url: 'data:text/plain;charset=utf-8,hello%20world',
    redirected: false,
    headers: [['content-type', 'text/plain;charset=utf-8']],
    text: 'hello world',
  });
  t.same(worker.calls.filter(([op]) => op === 'fetch'), [], 'no host fetch');
});

t.test('data: URL bodies, MIME types and methods', async (t) => {
  t.same(
    ev.run(`
      const read = async (input, init) => {
        const response = await fetch(input, init);
        return [response.headers.get('content-type'), [...new Uint8Array(await response.arrayBuffer())]];
      };
      return [
        await read('data:,A%42C'),
        await read('data:;base64,SGk='),
        await read('DATA:Text/HTML ; Charset="UTF-8" ;base64 , SGk='),
        await read('data:image/png;x=y;BASE64,AAEC/w=='),
        await read('data:bogus,x'),
        await read('data:;charset=utf-8,%E2%82%AC'),
        await read(new Request('data:,post'), { method: 'POST', body: 'ignored' }),
        await read('data:,x', { method: 'PUT' }),
        await (await fetch('data:application/json,{"a":1}')).json(),
        (await (await fetch('data:text/plain;a=b,xyz')).blob()).type,
      ];
    `),
    [
      ['text/plain;charset=US-ASCII', [0x41, 0x42, 0x43]],
      ['text/plain;charset=US-ASCII', [0x48, 0x69]],
      ['text/html;charset=UTF-8', [0x48, 0x69]],
      ['image/png;x=y', [0, 1, 2, 255]],
      ['text/plain;charset=US-ASCII', [0x78]],
      ['text/plain;charset=utf-8', [0xe2, 0x82, 0xac]],
      ['text/plain;charset=US-ASCII', [0x70, 0x6f, 0x73, 0x74]],
      ['text/plain;charset=US-ASCII', [0x78]],
      { a: 1 },
      'text/plain;a=b',
    ],
  );
});

t.test('a bad data: URL rejects with a TypeError', async (t) => {
  t.same(
    ev.run(`
      const outcome = (p) => p.then(() => 'resolved', (e) => e.constructor.name);
      return [
        await outcome(fetch('data:text/plain')),
        await outcome(fetch('data:;base64,A')),
        await outcome(fetch('data:;base64,AB=C')),
        await outcome(fetch('data:;base64,%')),
        await outcome(fetch('data:text/plain,ok')),
        await outcome(fetch('data:,x', { signal: AbortSignal.abort() })),
      ];
    `),
    ['TypeError', 'TypeError', 'TypeError', 'TypeError', 'resolved', 'DOMException'],
  );
});

t.test("Body's blob() type is the extracted MIME type, serialized", async (t) => {
  t.same(
    ev.run(`
      const typeOf = async (headers) => (await new Response('x', { headers }).blob()).type;
      const requestType = async (headers) => (await new Request('https://a.test/', { method: 'POST', body: 'x', headers }).blob()).type;
      return [
        await typeOf({ 'content-type': 'Text/HTML; Charset="UTF-8"' }),
        await typeOf({ 'content-type': 'text/plain;charset=gbk;charset=utf-8' }),
        await typeOf({ 'content-type': 'bogus' }),
        await typeOf([['content-type', 'text/html;charset=gbk'], ['content-type', 'text/html']]),
        await typeOf([['content-type', 'text/html;charset=gbk'], ['content-type', 'text/plain']]),
        await typeOf([['content-type', 'text/plain'], ['content-type', '*/*']]),
        await typeOf({ 'content-type': 'x/x;test="a,b"' }),
        await typeOf({ 'content-type': 'text/html;x="\\u00ff"' }),
        await requestType({ 'content-type': 'APPLICATION/JSON; A=B' }),
        (await new Response('x').blob()).type,
        (await new Response(new URLSearchParams('a=b')).blob()).type,
        (await new Response(new Blob(['x'], { type: 'Image/PNG' })).blob()).type,
      ];
    `),
    [
      'text/html;charset=UTF-8',
      'text/plain;charset=gbk',
      '',
      'text/html;charset=gbk',
      'text/plain',
      'text/plain',
      'x/x;test="a,b"',
      'text/html;x="\u00ff"',
      'application/json;a=B',
      'text/plain;charset=UTF-8',
      'application/x-www-form-urlencoded;charset=UTF-8',
      'image/png',
    ],
  );
});

t.test('Blob and File types follow the File API (U+0020-U+007E, ASCII-lowercased; not parsed)', async (t) => {
  t.same(
    ev.run(`
      return [
        new Blob([], { type: 'Text/HTML; Charset=UTF-8' }).type,
        new Blob([], { type: 'bogus' }).type,
        new Blob([], { type: 'text/plain\\u00e9' }).type,
        new File([], 'f', { type: 'A/B' }).type,
        new Blob(['abc'], { type: 'x/y' }).slice(0, 1, 'Q/R').type,
      ];
    `),
    ['text/html; charset=utf-8', 'bogus', '', 'a/b', 'q/r'],
  );
});
