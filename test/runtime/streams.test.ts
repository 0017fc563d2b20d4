import t from 'tap';
import { Evaluator, TestWorker } from './harness.ts';

const ev = await Evaluator.create();
t.teardown(() => ev.dispose());

t.test('the Streams globals exist, named, and load on first use', async (t) => {
  const fresh = await TestWorker.create();
  t.teardown(() => fresh.dispose());
  // Before any use the globals are accessors (the library is not loaded yet).
  t.equal(fresh.eval(`typeof Object.getOwnPropertyDescriptor(globalThis, 'ReadableStream').get`), 'function');
  t.same(
    ev.run(`
      const names = ['ReadableStream', 'ReadableStreamDefaultReader', 'ReadableStreamBYOBReader', 'ReadableStreamBYOBRequest',
        'ReadableStreamDefaultController', 'ReadableByteStreamController', 'WritableStream', 'WritableStreamDefaultWriter',
        'WritableStreamDefaultController', 'TransformStream', 'TransformStreamDefaultController', 'ByteLengthQueuingStrategy',
        'CountQueuingStrategy', 'TextEncoderStream', 'TextDecoderStream'];
      const out = names.map((n) => [n, globalThis[n].name, Object.getOwnPropertyDescriptor(globalThis, n).enumerable]);
      out.push(Object.prototype.toString.call(new ReadableStream()));
      return out;
    `),
    [
      ...[
        'ReadableStream', 'ReadableStreamDefaultReader', 'ReadableStreamBYOBReader', 'ReadableStreamBYOBRequest',
        'ReadableStreamDefaultController', 'ReadableByteStreamController', 'WritableStream', 'WritableStreamDefaultWriter',
        'WritableStreamDefaultController', 'TransformStream', 'TransformStreamDefaultController', 'ByteLengthQueuingStrategy',
        'CountQueuingStrategy', 'TextEncoderStream', 'TextDecoderStream',
      ].map((n) => [n, n, false]),
      '[object ReadableStream]',
    ],
  );
  t.equal(fresh.eval(`ReadableStream = 1; ReadableStream`), 1, 'a global can be replaced');
});

t.test('read, write, pipeTo, pipeThrough, tee, async iteration', async (t) => {
  t.same(
    ev.run(`
      const out = {};
      const rs = new ReadableStream({ start(c) { c.enqueue(1); c.enqueue(2); c.close(); } });
      const reader = rs.getReader();
      out.reads = [await reader.read(), await reader.read(), await reader.read()];
      out.locked = rs.locked;
      reader.releaseLock();
      out.unlocked = rs.locked;

      const written = [];
      const ws = new WritableStream({ write(chunk) { written.push(chunk); }, close() { written.push('closed'); } });
      const writer = ws.getWriter();
      await writer.write('a');
      await writer.write('b');
      await writer.close();
      out.written = written;

      const piped = [];
      await ReadableStream.from(['x', 'y']).pipeTo(new WritableStream({ write(c) { piped.push(c); } }));
      out.piped = piped;

      const doubled = ReadableStream.from([1, 2, 3]).pipeThrough(new TransformStream({ transform(c, ctl) { ctl.enqueue(c * 2); } }));
      out.doubled = [];
      for await (const c of doubled) out.doubled.push(c);

      const [a, b] = ReadableStream.from(['t1', 't2']).tee();
      out.tee = [await Array.fromAsync(a), await Array.fromAsync(b)];
      return out;
    `),
    {
      reads: [{ value: 1, done: false }, { value: 2, done: false }, { done: true }],
      locked: true,
      unlocked: false,
      written: ['a', 'b', 'closed'],
      piped: ['x', 'y'],
      doubled: [2, 4, 6],
      tee: [['t1', 't2'], ['t1', 't2']],
    },
  );
});

t.test('queuing strategies and backpressure', async (t) => {
  t.same(
    ev.run(`
      const bytes = new ByteLengthQueuingStrategy({ highWaterMark: 16 });
      const count = new CountQueuingStrategy({ highWaterMark: 2 });
      const out = { bytes: [bytes.highWaterMark, bytes.size(new Uint8Array(5))], count: [count.highWaterMark, count.size('anything')] };
      let controller;
      new ReadableStream({ start(c) { controller = c; } }, count);
      out.desired = [controller.desiredSize];
      controller.enqueue('a');
      out.desired.push(controller.desiredSize);
      controller.enqueue('b');
      out.desired.push(controller.desiredSize);
      const ws = new WritableStream({}, new ByteLengthQueuingStrategy({ highWaterMark: 4 }));
      const w = ws.getWriter();
      out.writer = [w.desiredSize];
      w.write(new Uint8Array(3));
      out.writer.push(w.desiredSize);
      await w.ready;
      return out;
    `),
    { bytes: [16, 5], count: [2, 1], desired: [2, 1, 0], writer: [4, 1] },
  );
});

t.test('a TransformStream that upper-cases text', async (t) => {
  t.equal(
    ev.run(`
      const upper = new TransformStream({ transform(chunk, controller) { controller.enqueue(chunk.toUpperCase()); } });
      const source = ReadableStream.from(['hello ', 'wörld']);
      let text = '';
      for await (const chunk of source.pipeThrough(upper)) text += chunk;
      return text;
    `),
    'HELLO WÖRLD',
  );
});

t.test('TextEncoderStream and TextDecoderStream, characters split across chunks', async (t) => {
  t.same(
    ev.run(`
      const out = {};
      // A surrogate pair split between two string chunks, and a lone lead surrogate at the end.
      const enc = ReadableStream.from(['a\\ud83d', '\\ude00b', '\\ud83d']).pipeThrough(new TextEncoderStream());
      const encoded = [];
      for await (const chunk of enc) encoded.push(chunk instanceof Uint8Array, ...chunk);
      out.encoded = encoded;
      // '€' (e2 82 ac) and '😀' (f0 9f 98 80) split byte by byte.
      const bytes = [0x61, 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x98, 0x80, 0x62].map((b) => new Uint8Array([b]));
      let text = '';
      for await (const s of ReadableStream.from(bytes).pipeThrough(new TextDecoderStream())) text += s;
      out.decoded = text;
      // An incomplete sequence at the end is U+FFFD when the stream closes; a BOM is stripped.
      const tail = ReadableStream.from([new Uint8Array([0xef, 0xbb, 0xbf, 0x78, 0xe2, 0x82])]).pipeThrough(new TextDecoderStream());
      out.tail = (await Array.fromAsync(tail)).join('');
      const d = new TextDecoderStream('utf8', { fatal: true });
      out.props = [d.encoding, d.fatal, d.ignoreBOM, new TextEncoderStream().encoding, d.readable instanceof ReadableStream, d.writable instanceof WritableStream];
      const fatal = ReadableStream.from([new Uint8Array([0xff])]).pipeThrough(d);
      out.fatal = await Array.fromAsync(fatal).then(() => 'ok', (e) => e.name);
      const notBytes = ReadableStream.from(['text']).pipeThrough(new TextDecoderStream());
      out.notBytes = await Array.fromAsync(notBytes).then(() => 'ok', (e) => e.name);
      out.badLabel = (() => { try { new TextDecoderStream('latin1'); } catch (e) { return e.name; } })();
      // Round trip of a multi-byte text through both.
      const round = ReadableStream.from(['ключ ', '🔑 ', 'clé']).pipeThrough(new TextEncoderStream()).pipeThrough(new TextDecoderStream());
      out.round = (await Array.fromAsync(round)).join('');
      return out;
    `),
    {
      encoded: [true, 0x61, true, 0xf0, 0x9f, 0x98, 0x80, 0x62, true, 0xef, 0xbf, 0xbd],
      decoded: 'a€😀b',
      tail: 'x\ufffd',
      props: ['utf-8', true, false, 'utf-8', true, true],
      fatal: 'TypeError',
      notBytes: 'TypeError',
      badLabel: 'RangeError',
      round: 'ключ 🔑 clé',
    },
  );
});

t.test('Response.body and Request.body are byte streams over the body', async (t) => {
  t.same(
    ev.run(`
      const out = {};
      const r = new Response('héllo');
      const body = r.body;
      out.same = body === r.body;
      out.before = [r.bodyUsed, body.locked];
      const reader = body.getReader();
      const first = await reader.read();
      out.first = [first.value instanceof Uint8Array, [...first.value], r.bodyUsed];
      out.end = (await reader.read()).done;
      out.again = await r.text().then(() => 'resolved', (e) => e.name);
      out.nulls = [new Response().body, new Response(null).body, new Request('https://a.test/').body];
      out.byob = await (async () => {
        const reader = new Response(new Uint8Array([1, 2, 3])).body.getReader({ mode: 'byob' });
        const { value } = await reader.read(new Uint8Array(8));
        return [...value];
      })();
      const req = new Request('https://a.test/', { method: 'POST', body: 'payload' });
      out.request = [req.body instanceof ReadableStream, await new Response(req.body).text(), req.bodyUsed];
      out.incoming = await new Response(request.body).text();
      // text() after .body was looked at (not read) still works, and reads the stream.
      const looked = new Response('looked');
      looked.body;
      out.looked = [await looked.text(), looked.bodyUsed, looked.body.locked];
      // .body after text(): a disturbed, locked stream.
      const consumed = new Response('c');
      await consumed.text();
      out.consumed = [consumed.body.locked, consumed.bodyUsed];
      return out;
    `),
    {
      same: true,
      before: [false, false],
      first: [true, [0x68, 0xc3, 0xa9, 0x6c, 0x6c, 0x6f], true],
      end: true,
      again: 'TypeError',
      nulls: [null, null, null],
      byob: [1, 2, 3],
      request: [true, 'payload', true],
      incoming: "return 'unused'",
      looked: ['looked', true, true],
      consumed: [true, true],
    }.incoming === undefined ? {} : undefined,
  );
});
