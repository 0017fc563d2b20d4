import t from 'tap';
import { Evaluator, TestWorker } from './harness.ts';

const ev = await Evaluator.create();
t.teardown(() => ev.dispose());

t.test('Blob: parts, type, size, slice, text/arrayBuffer/bytes/stream', async (t) => {
  t.same(
    ev.run(`
      const bytes = new Uint8Array([0x61, 0x62]);
      const blob = new Blob(['hé', bytes.buffer, new DataView(new Uint8Array([0x63]).buffer), new Blob(['d']), 1], { type: 'Text/PLAIN;Charset=UTF-8' });
      bytes[0] = 0; // copied on construction
      const sliced = blob.slice(-4, -1, 'APPLICATION/X');
      const stream = blob.stream();
      const reader = stream.getReader();
      const chunks = [];
      for (let r = await reader.read(); !r.done; r = await reader.read()) chunks.push(...r.value);
      return {
        size: blob.size, type: blob.type, text: await blob.text(),
        buffer: [...new Uint8Array(await blob.arrayBuffer())].length,
        bytes: (await blob.bytes()) instanceof Uint8Array,
        slice: [await sliced.text(), sliced.type, sliced.size],
        edges: [blob.slice(100).size, blob.slice(3, 1).size, blob.slice().size, blob.slice(1, 3).size],
        stream: new TextDecoder().decode(new Uint8Array(chunks)),
        isStream: stream instanceof ReadableStream,
        badType: new Blob([], { type: 'a\\u00e9' }).type, empty: [new Blob().size, new Blob().type],
        notSequence: (() => { try { new Blob('abc'); } catch (e) { return e.name; } })(),
        tag: Object.prototype.toString.call(blob),
      };
    `),
    {
      size: 8,
      type: 'text/plain;charset=utf-8',
      text: 'héabcd1',
      buffer: 8,
      bytes: true,
      slice: ['bcd', 'application/x', 3],
      edges: [0, 0, 8, 2],
      stream: 'héabcd1',
      isStream: true,
      badType: '',
      empty: [0, ''],
      notSequence: 'TypeError',
      tag: '[object Blob]',
    },
  );
});

t.test('File: name, lastModified, is a Blob', async (t) => {
  t.same(
    ev.run(`
      const f = new File(['x', 'y'], 'a.txt', { type: 'text/plain', lastModified: 1234 });
      const now = new File([], 'n');
      return [f.name, f.lastModified, f.size, f.type, f instanceof Blob, await f.text(), typeof now.lastModified, now.lastModified > 0,
        (() => { try { new File([]); } catch (e) { return e.name; } })(), Object.prototype.toString.call(f)];
    `),
    ['a.txt', 1234, 2, 'text/plain', true, 'xy', 'number', true, 'TypeError', '[object File]'],
  );
});

t.test('FormData: append/set/get/getAll/has/delete, iteration, Files', async (t) => {
  t.same(
    ev.run(`
      const fd = new FormData();
      fd.append('a', '1');
      fd.append('b', 'x');
      fd.append('a', 2);
      fd.append('blob', new Blob(['data'], { type: 'text/x' }));
      fd.append('file', new File(['f'], 'orig.txt'), 'renamed.txt');
      const out = { get: fd.get('a'), getAll: fd.getAll('a'), has: [fd.has('b'), fd.has('zz')], missing: fd.get('zz') };
      const blob = fd.get('blob');
      out.blob = [blob instanceof File, blob.name, blob.type, await blob.text()];
      out.file = fd.get('file').name;
      fd.set('a', '3');
      out.afterSet = [...fd.keys()];
      fd.delete('b');
      out.entries = [...fd].map(([k, v]) => [k, typeof v === 'string' ? v : v.name]);
      out.values = [...fd.values()].length;
      const each = [];
      fd.forEach(function (value, key, self) { each.push([key, self === fd, this.tag]); }, { tag: 't' });
      out.each = each;
      out.errors = [
        (() => { try { fd.append('only'); } catch (e) { return e.name; } })(),
        (() => { try { fd.append('a', 'str', 'name'); } catch (e) { return e.name; } })(),
      ];
      out.tag = Object.prototype.toString.call(fd);
      return out;
    `),
    {
      get: '1',
      getAll: ['1', '2'],
      has: [true, false],
      missing: null,
      blob: [true, 'blob', 'text/x', 'data'],
      file: 'renamed.txt',
      afterSet: ['a', 'b', 'blob', 'file'],
      entries: [['a', '3'], ['blob', 'blob'], ['file', 'renamed.txt']],
      values: 3,
      each: [['a', true, 't'], ['blob', true, 't'], ['file', true, 't']],
      errors: ['TypeError', 'TypeError'],
      tag: '[object FormData]',
    },
  );
});

t.test('bodies: Blob and FormData; blob(); multipart round trip with a file and non-ASCII values', async (t) => {
  t.same(
    ev.run(`
      const fromBlob = new Response(new Blob(['<b>'], { type: 'text/html' }));
      const untyped = new Response(new Blob(['z']));
      const out = { blobBody: [fromBlob.headers.get('content-type'), await fromBlob.text(), untyped.headers.get('content-type')] };

      const fd = new FormData();
      fd.append('name', 'Zoë 日本 😀');
      fd.append('multi\\nline"quoted"', 'a\\nb\\r\\nc');
      fd.append('upload', new File([new Uint8Array([0, 1, 2, 255]), 'ü'], 'résumé.bin', { type: 'application/octet-stream' }));
      fd.append('empty', new Blob([]), 'empty.txt');
      const response = new Response(fd);
      const type = response.headers.get('content-type');
      out.type = /^multipart\\/form-data; boundary=[-A-Za-z0-9]+$/.test(type);
      const raw = await response.clone().text();
      out.rawHasCRLF = raw.includes('a\\r\\nb\\r\\nc') && raw.includes('name="multi%0D%0Aline%22quoted%22"');
      const upload = new Request('https://a.example/', { method: 'POST', body: response.body, headers: { 'content-type': type } });
      const parsed = await upload.formData();
      const file = parsed.get('upload');
      out.parsed = {
        keys: [...parsed.keys()], name: parsed.get('name'), multi: parsed.get('multi%0D%0Aline%22quoted%22'),
        file: [file instanceof File, file.name, file.type, [...await file.bytes()]],
        empty: [parsed.get('empty').name, parsed.get('empty').size],
      };
      const blob = await new Response('hi', { headers: { 'content-type': 'Text/Plain' } }).blob();
      out.blob = [blob instanceof Blob, blob.type, await blob.text()];
      return out;
    `),
    {
      blobBody: ['text/html', '<b>', null],
      type: true,
      rawHasCRLF: true,
      parsed: {
        keys: ['name', 'multi%0D%0Aline%22quoted%22', 'upload', 'empty'],
        name: 'Zoë 日本 😀',
        multi: 'a\r\nb\r\nc',
        file: [true, 'résumé.bin', 'application/octet-stream', [0, 1, 2, 255, 0xc3, 0xbc]],
        empty: ['empty.txt', 0],
      },
      blob: [true, 'text/plain', 'hi'],
    },
  );
});

t.test('formData(): urlencoded bodies, URLSearchParams, errors', async (t) => {
  t.same(
    ev.run(`
      const urlencoded = await new Response('a=1&b=x+y&&c=%C3%A9%zz&d', { headers: { 'content-type': 'application/x-www-form-urlencoded;charset=UTF-8' } }).formData();
      const fromParams = await new Request('https://a.example/', { method: 'POST', body: new URLSearchParams({ k: 'v w', é: '&' }) }).formData();
      const fail = (body, type) => new Response(body, { headers: type ? { 'content-type': type } : {} }).formData().then(() => 'ok', (e) => e.name);
      return {
        urlencoded: [...urlencoded],
        fromParams: [...fromParams],
        errors: [await fail('x', 'text/plain'), await fail('x', 'multipart/form-data'), await fail('garbage', 'multipart/form-data; boundary=zz'),
                 await fail(new Uint8Array([1]))],
        quoted: [...await new Response('--b c\\r\\nContent-Disposition: form-data; name="q"\\r\\n\\r\\nv\\r\\n--b c--\\r\\n', { headers: { 'content-type': 'multipart/form-data; boundary="b c"' } }).formData()],
      };
    `),
    {
      urlencoded: [['a', '1'], ['b', 'x y'], ['c', 'é%zz'], ['d', '']],
      fromParams: [['k', 'v w'], ['é', '&']],
      errors: ['TypeError', 'TypeError', 'TypeError', 'TypeError'],
      quoted: [['q', 'v']],
    },
  );
});

t.test('an uploaded multipart body parses in the worker', async (t) => {
  const w = await TestWorker.create();
  t.teardown(() => w.dispose());
  w.deployModule(`
    export default {
      async fetch(request) {
        const fd = await request.formData();
        const file = fd.get('metadata');
        return Response.json({ text: fd.get('text'), file: [file.name, file.type, await file.text()] });
      },
    };
  `);
  const boundary = 'XyZ';
  const body =
    `preamble\r\n--${boundary}\r\nContent-Disposition: form-data; name="text"\r\n\r\nhello wörld\r\n` +
    `--${boundary}\r\nContent-Disposition: form-data; name="metadata"; filename="m.json"\r\nContent-Type: application/json\r\n\r\n{"a":1}\r\n` +
    `--${boundary}--\r\n`;
  const answer = w.fetch('https://w.example/', { method: 'POST', headers: { 'content-type': `multipart/form-data; boundary=${boundary}` }, body });
  t.same(JSON.parse(answer.body!), { text: 'hello wörld', file: ['m.json', 'application/json', '{"a":1}'] });
});
