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

t.test("Workers' readAtLeast: BYOB reads until the minimum, fewer only at the end", async (t) => {
  t.same(
    ev.run(`
      // A byte stream that gives 3 bytes a pull, 10 in all.
      const source = () => {
        let next = 0;
        return new ReadableStream({ type: 'bytes', pull(c) {
          const n = Math.min(3, 10 - next);
          c.enqueue(new Uint8Array(Array.from({ length: n }, (_, i) => next + i)));
          next += n;
          if (next === 10) c.close();
        } });
      };
      const reader = source().getReader({ mode: 'byob' });
      const first = await reader.readAtLeast(5, new Uint8Array(8));
      const second = await reader.readAtLeast(5, new Uint8Array(8));
      const third = await reader.readAtLeast(1, new Uint8Array(8));
      const words = await source().getReader({ mode: 'byob' }).readAtLeast(4, new Uint16Array(4));
      const errors = [];
      for (const args of [[0, new Uint8Array(4)], [5, new Uint8Array(4)], [1, 'not a view'], [1.5, new Uint8Array(4)]]) {
        await reader.readAtLeast(...args).then(() => errors.push('read'), (e) => errors.push(e.name));
      }
      return {
        first: [...first.value], firstDone: first.done,
        second: [...second.value], secondDone: second.done,
        third: [third.value.length, third.done],
        words: [words.value.constructor.name, words.value.byteLength >= 4, words.value.byteLength % 2],
        errors,
        name: ReadableStreamBYOBReader.prototype.readAtLeast.name,
      };
    `),
    {
      first: [0, 1, 2, 3, 4, 5], firstDone: false,
      second: [6, 7, 8, 9], secondDone: false,
      third: [0, true],
      words: ['Uint16Array', true, 0],
      errors: ['TypeError', 'TypeError', 'TypeError', 'TypeError'],
      name: 'readAtLeast',
    },
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
      out.badLabel = (() => { try { new TextDecoderStream('utf-32'); } catch (e) { return e.name; } })();
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
      // The Evaluator read its own request with text(): its body stream is disturbed and locked.
      out.incoming = [request.bodyUsed, request.body.locked];
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
      incoming: [true, true],
      looked: ['looked', true, true],
      consumed: [true, true],
    },
  );
});

t.test('new Response(stream), new Request(url, { body: stream }), clone() tees', async (t) => {
  t.same(
    ev.run(`
      const out = {};
      const chunks = () => new ReadableStream({ start(c) { c.enqueue(new TextEncoder().encode('ab')); c.enqueue(new TextEncoder().encode('cd')); c.close(); } });
      const r = new Response(chunks(), { headers: { 'x-a': '1' } });
      out.type = r.headers.get('content-type');
      out.text = await r.text();
      out.used = r.bodyUsed;
      const original = new Response(chunks());
      const copy = original.clone();
      out.clone = [await original.text(), await copy.text()];
      const req = new Request('https://a.test/', { method: 'PUT', body: chunks() });
      const reqCopy = req.clone();
      out.request = [await req.text(), await reqCopy.arrayBuffer().then((b) => b.byteLength)];
      const source = new Request('https://a.test/', { method: 'POST', body: chunks() });
      const moved = new Request(source);
      out.moved = [source.bodyUsed, await moved.text()];
      out.duplex = (() => { try { new Request('https://a.test/', { method: 'POST', body: chunks(), duplex: 'full' }); } catch (e) { return e.name; } })();
      out.get = (() => { try { new Request('https://a.test/', { body: chunks() }); } catch (e) { return e.name; } })();
      const locked = chunks();
      locked.getReader();
      out.locked = (() => { try { new Response(locked); } catch (e) { return e.name; } })();
      const disturbed = chunks();
      await disturbed.cancel();
      out.disturbed = (() => { try { new Response(disturbed); } catch (e) { return e.name; } })();
      const errored = new Response(new ReadableStream({ start(c) { c.error(new RangeError('bad source')); } }));
      out.errored = await errored.text().then(() => 'ok', (e) => [e.name, e.message]);
      const strings = new Response(ReadableStream.from(['not bytes']));
      out.strings = await strings.text().then(() => 'ok', (e) => e.name);
      return out;
    `),
    {
      type: null,
      text: 'abcd',
      used: true,
      clone: ['abcd', 'abcd'],
      request: ['abcd', 4],
      moved: [true, 'abcd'],
      duplex: 'TypeError',
      get: 'TypeError',
      locked: 'TypeError',
      disturbed: 'TypeError',
      errored: ['RangeError', 'bad source'],
      strings: 'TypeError',
    },
  );
});

t.test('a handler answering with new Response(stream) sends status and headers, then the chunks as they come', async (t) => {
  const w = await TestWorker.create();
  t.teardown(() => w.dispose());
  w.deployModule(`
    export default {
      async fetch(request) {
        const path = new URL(request.url).pathname;
        if (path === '/sync') {
          return new Response(ReadableStream.from(['é', 'tà', '!']).pipeThrough(new TextEncoderStream()), { status: 201, headers: { 'content-type': 'text/plain' } });
        }
        if (path === '/timer') {
          // Chunks enqueued from timers: the invocation answers once the stream closes.
          let n = 0;
          return new Response(new ReadableStream({
            start(controller) {
              const tick = () => {
                controller.enqueue(new TextEncoder().encode('tick' + n + ';'));
                if (++n === 3) controller.close();
                else setTimeout(tick, 10);
              };
              setTimeout(tick, 10);
            },
          }));
        }
        if (path === '/echo') return new Response(request.body);
        if (path === '/empty') return new Response(new ReadableStream({ start(c) { c.close(); } }));
        if (path === '/error') {
          return new Response(new ReadableStream({
            start(c) { c.enqueue(new Uint8Array([1])); setTimeout(() => c.error(new Error('stream broke')), 5); },
          }));
        }
        if (path === '/string-chunk') return new Response(ReadableStream.from(['text ✓', new Uint16Array([0x4241]).buffer, new DataView(new Uint8Array([0x43]).buffer)]));
        if (path === '/number-chunk') return new Response(ReadableStream.from([42]));
        if (path === '/used') {
          const r = new Response(ReadableStream.from([new Uint8Array([1])]));
          await r.text();
          return r;
        }
        return new Response('not found', { status: 404 });
      },
    };
  `);

  const sync = w.fetch('https://s.example/sync');
  t.equal(sync.status, 201);
  t.same(sync.headers, ['content-type', 'text/plain']);
  t.ok(sync.streamed && sync.ended, 'streamed to its end');
  t.equal(sync.body, 'étà!');
  t.ok(sync.done);

  const id = w.send('https://s.example/timer');
  t.equal(w.answerOf(id).status, 200, 'the status goes out before the first chunk');
  t.same(w.callsFor(id, 'chunk'), [], 'no chunk yet');
  w.fireNextTimer();
  t.equal(w.answerOf(id).body, 'tick0;', 'the first chunk goes out as soon as it is enqueued');
  t.notOk(w.answerOf(id).done);
  const timer = w.fetch('https://s.example/timer');
  t.equal(timer.body, 'tick0;tick1;tick2;');
  t.ok(timer.done);
  for (let i = 0; i < 10 && !w.answerOf(id).done; i++) w.fireNextTimer();
  t.equal(w.answerOf(id).body, 'tick0;tick1;tick2;', 'the first invocation finished as well');

  const echo = w.fetch('https://s.example/echo', { method: 'POST', body: 'echo ✓' });
  t.equal(echo.body, 'echo ✓');
  t.notOk(echo.streamed, "the request's untouched body stream is sent whole");
  const empty = w.fetch('https://s.example/empty');
  t.equal(empty.status, 200);
  t.ok(empty.ended);
  t.equal((empty.rawBody as ArrayBuffer).byteLength, 0);

  const broken = w.fetch('https://s.example/error');
  t.equal(broken.status, 200, 'the status went out');
  t.equal(broken.body, '\u0001', 'then the first chunk');
  t.notOk(broken.ended, 'the body never ends');
  t.equal(broken.error?.message, 'stream broke', 'the error is reported: the host cuts the response short');
  t.ok(broken.done);

  // As workerd: strings go out as UTF-8, other BufferSources as their bytes.
  const strings = w.fetch('https://s.example/string-chunk');
  t.equal(strings.body, 'text ✓ABC');
  t.ok(strings.ended);
  const numbers = w.fetch('https://s.example/number-chunk');
  t.equal(numbers.error?.message, 'The body stream produced a chunk that is not a Uint8Array.');

  const used = w.fetch('https://s.example/used');
  t.match(used.error?.message, /body was already read/);
});

t.test('a cancelled invocation stops reading its stream body', async (t) => {
  const w = await TestWorker.create();
  t.teardown(() => w.dispose());
  w.deployModule(`
    globalThis.pulls = 0;
    export default {
      fetch() {
        return new Response(new ReadableStream({
          pull(controller) {
            globalThis.pulls++;
            return new Promise((resolve) => setTimeout(() => { controller.enqueue(new Uint8Array([1])); resolve(); }, 10));
          },
        }, { highWaterMark: 0 }));
      },
    };
  `);
  const id = w.send('https://c.example/');
  w.fireNextTimer();
  w.fireNextTimer();
  t.same(w.callsFor(id).map((c) => c[0]), ['respondStream', 'chunk', 'chunk'], 'the status and a chunk per timer went out');
  w.dispatch('cancel', id);
  for (let i = 0; i < 5; i++) w.fireNextTimer();
  t.equal(w.callsFor(id).length, 3, 'nothing is sent for a cancelled invocation');
  const pulls = w.eval('pulls') as number;
  t.ok(pulls >= 1, 'the stream was being read');
  for (let i = 0; i < 5; i++) w.fireNextTimer();
  t.equal(w.eval('pulls'), pulls, 'the stream is no longer pulled');
});

t.test("a worker that breaks the streams' prototypes still gets its stream body sent", async (t) => {
  const w = await TestWorker.create();
  t.teardown(() => w.dispose());
  w.deployModule(`
    export default {
      fetch() {
        const stream = ReadableStream.from([new Uint8Array([111, 107])]);
        ReadableStream.prototype.getReader = () => { throw new Error('broken getReader'); };
        ReadableStreamDefaultReader.prototype.read = () => { throw new Error('broken read'); };
        return new Response(stream);
      },
    };
  `);
  t.equal(w.fetch('https://b.example/').body, 'ok');
});

t.test('backpressure: when the host has no room, the stream is not read until dispatch("pull")', async (t) => {
  const w = await TestWorker.create();
  t.teardown(() => w.dispose());
  w.deployModule(`
    globalThis.pulls = 0;
    export default {
      fetch() {
        return new Response(new ReadableStream({
          pull(controller) {
            if (++globalThis.pulls > 100) controller.close();
            else controller.enqueue(new Uint8Array(1000));
          },
        }, { highWaterMark: 0 }));
      },
    };
  `);
  w.acceptingChunks = false;
  const id = w.send('https://p.example/');
  const sent = () => w.callsFor(id, 'chunk').reduce((bytes, call) => bytes + (call[2] as ArrayBuffer).byteLength, 0);
  // The chunks a source makes together cross in one call, up to 16 KiB (send-body.ts).
  t.equal(w.callsFor(id, 'chunk').length, 1, 'one call, then the host said it had no room');
  t.ok(sent() >= 16 * 1024 && sent() < 18 * 1024, `it carried the chunks made together: ${sent()} bytes`);
  const pulled = w.eval('pulls') as number;
  t.ok(pulled <= 18, `the producer was pulled ${pulled} times, not run ahead`);
  w.dispatch('pull', id);
  t.equal(w.callsFor(id, 'chunk').length, 2, 'one more call per pull while there is no room');
  t.ok((w.eval('pulls') as number) <= 2 * 18, 'and no more pulls than it carries');
  w.acceptingChunks = true;
  w.dispatch('pull', id);
  t.equal(sent(), 100 * 1000, 'with room again, the rest');
  t.ok(w.answerOf(id).ended && w.answerOf(id).done);
});

t.test('chunks a source makes together cross in one host call; one made after a timer goes on its own', async (t) => {
  const w = await TestWorker.create();
  t.teardown(() => w.dispose());
  w.deployModule(`
    export default {
      fetch(request) {
        const path = new URL(request.url).pathname;
        if (path === '/together') {
          return new Response(new ReadableStream({ pull(c) { for (let i = 0; i < 100; i++) c.enqueue(new Uint8Array([i])); c.close(); } }));
        }
        if (path === '/writer') {
          const { readable, writable } = new TransformStream();
          const writer = writable.getWriter();
          (async () => { for (let i = 0; i < 50; i++) await writer.write(new Uint8Array([i])); await writer.close(); })();
          return new Response(readable);
        }
        let n = 0;
        return new Response(new ReadableStream({ async pull(c) { await scheduler.wait(5); c.enqueue(new Uint8Array([n])); if (++n === 3) c.close(); } }));
      },
    };
  `);
  const bytesOf = (id: number) => w.callsFor(id, 'chunk').map((call) => [...new Uint8Array(call[2] as ArrayBuffer)]);
  const together = w.fetch('https://s.example/together');
  t.same(bytesOf(together.id), [Array.from({ length: 100 }, (_, i) => i)], 'a pull that enqueues 100 chunks: one call, in order');
  const writer = w.fetch('https://s.example/writer');
  t.same(bytesOf(writer.id), [Array.from({ length: 50 }, (_, i) => i)], "a writer's awaited writes: one call");
  const id = w.send('https://s.example/timed');
  t.equal(w.callsFor(id, 'chunk').length, 0, 'nothing before the first timer');
  w.fireNextTimer();
  t.same(bytesOf(id), [[0]], 'a chunk made after a timer goes within that slice, on its own');
  w.fireNextTimer();
  t.same(bytesOf(id), [[0], [1]]);
  w.fireNextTimer();
  t.same(bytesOf(id), [[0], [1], [2]]);
  t.ok(w.answerOf(id).ended);
});

t.test("the host's one pull while a read waits on the source is not lost", async (t) => {
  const w = await TestWorker.create();
  t.teardown(() => w.dispose());
  w.deployModule(`
    export default {
      fetch() {
        let n = 0;
        return new Response(new ReadableStream({
          async pull(c) {
            if (n > 0) await scheduler.wait(5);
            c.enqueue(new Uint8Array([n]));
            if (++n === 4) c.close();
          },
        }, { highWaterMark: 0 }));
      },
    };
  `);
  w.acceptingChunks = false;
  const id = w.send('https://p.example/');
  t.equal(w.callsFor(id, 'chunk').length, 1, 'chunk 0 sent and refused room, while a read waits on the timer');
  // The client drains: the host says pull once, as executor.ts does on an ack, before the timer fires.
  w.acceptingChunks = true;
  w.dispatch('pull', id);
  for (let i = 0; i < 10 && !w.answerOf(id).ended; i++) if (!w.fireNextTimer()) break;
  t.same(w.callsFor(id, 'chunk').flatMap((call) => [...new Uint8Array(call[2] as ArrayBuffer)]), [0, 1, 2, 3], 'every byte sent');
  t.ok(w.answerOf(id).ended, 'and the body ended');
});

t.test("an ended response's stream is not kept by a flush the host refused while its last read waited", async (t) => {
  const w = await TestWorker.create(64);
  t.teardown(() => w.dispose());
  w.deployModule(`
    globalThis.refs = [];
    export default {
      fetch() {
        let n = 0;
        const stream = new ReadableStream({
          async pull(c) {
            if (n++ === 0) { c.enqueue(new Uint8Array(100)); return; }
            await scheduler.wait(5);
            c.close();
          },
        }, { highWaterMark: 0 });
        refs.push(new WeakRef(stream));
        return new Response(stream);
      },
    };
  `);
  // The host has no room: the first chunk's flush is refused while the read that ends the stream waits.
  w.acceptingChunks = false;
  let ended = 0;
  for (let i = 0; i < 500; i++) {
    const id = w.send('https://p.example/');
    for (let k = 0; k < 10 && !w.answerOf(id).done; k++) if (!w.fireNextTimer()) break;
    if (w.answerOf(id).ended) ended++;
    w.calls.length = 0;
  }
  t.equal(ended, 500, 'every response ended');
  for (let k = 0; k < 10; k++) w.eval('{ let a = []; for (let i = 0; i < 200000; i++) a.push({ i }); a = null; }');
  const alive = w.eval('refs.filter((r) => r.deref() !== undefined).length') as number;
  t.ok(alive < 50, `${alive} of 500 ended responses' streams still reachable`);
});

t.test('a request body the host streams in is read as the worker pulls it', async (t) => {
  const w = await TestWorker.create();
  t.teardown(() => w.dispose());
  w.deployModule(`
    export default {
      async fetch(request) {
        const reader = request.body.getReader();
        const seen = [];
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          seen.push(new TextDecoder().decode(value));
        }
        return Response.json(seen);
      },
    };
  `);
  const id = 1000;
  w.dispatch('request', id, 'POST', 'https://u.example/', 'transfer-encoding\nchunked', 'stream');
  t.same(w.callsFor(id).map((c) => c[0]), ['pullBody'], 'the worker asks for the first chunk');
  w.dispatch('bodyChunk', id, new TextEncoder().encode('one').buffer);
  t.same(w.callsFor(id).map((c) => c[0]), ['pullBody', 'pullBody'], 'and for the next once it has read it');
  w.dispatch('bodyChunk', id, new TextEncoder().encode('two').buffer);
  w.dispatch('bodyChunk', id, null);
  const answer = w.answerOf(id);
  t.equal(answer.body, '["one","two"]');
  t.ok(answer.done);

  const failing = 1001;
  w.dispatch('request', failing, 'POST', 'https://u.example/', '', 'stream');
  w.dispatch('bodyError', failing, 'the request body is larger than 10 bytes');
  t.equal(w.answerOf(failing).error?.message, 'the request body is larger than 10 bytes', 'a body error rejects the read with a TypeError');
});

t.test("cancelling an invocation aborts its request's signal", async (t) => {
  const w = await TestWorker.create();
  t.teardown(() => w.dispose());
  w.deployModule(`
    globalThis.aborted = null;
    export default {
      fetch(request) {
        request.signal.addEventListener('abort', () => { globalThis.aborted = request.signal.reason.name; });
        return new Promise(() => {});
      },
    };
  `);
  const id = w.send('https://a.example/');
  t.equal(w.eval('aborted'), null);
  w.dispatch('cancel', id);
  t.equal(w.eval('aborted'), 'AbortError');
});
