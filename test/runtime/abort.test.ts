import t from 'tap';
import { Evaluator, TestWorker } from './harness.ts';

const ev = await Evaluator.create();
t.teardown(() => ev.dispose());

t.test('AbortController: abort once, default reason, onabort and listeners, throwIfAborted', async (t) => {
  t.same(
    ev.run(`
      const controller = new AbortController();
      const { signal } = controller;
      const seen = [];
      signal.onabort = function (e) { seen.push(['onabort', e.type, this === signal]); };
      signal.addEventListener('abort', (e) => seen.push(['listener', e.target === signal, signal.aborted]));
      const before = [signal.aborted, signal.reason, signal.throwIfAborted()];
      controller.abort();
      controller.abort('again');
      const reason = signal.reason;
      let thrown;
      try { signal.throwIfAborted(); } catch (e) { thrown = e === reason; }
      const custom = new AbortController();
      custom.abort('why');
      return {
        before, seen, reason: [reason instanceof DOMException, reason.name, reason.code], thrown,
        custom: custom.signal.reason, signalIsTarget: signal instanceof EventTarget,
        illegal: (() => { try { new AbortSignal(); } catch (e) { return e.name; } })(),
        tag: Object.prototype.toString.call(signal),
      };
    `),
    {
      before: [false, null, null],
      seen: [['onabort', 'abort', true], ['listener', true, true]],
      reason: [true, 'AbortError', 20],
      thrown: true,
      custom: 'why',
      signalIsTarget: true,
      illegal: 'TypeError',
      tag: '[object AbortSignal]',
    },
  );
});

t.test('AbortSignal.abort and AbortSignal.any', async (t) => {
  t.same(
    ev.run(`
      const pre = AbortSignal.abort();
      const given = AbortSignal.abort(42);
      const a = new AbortController();
      const b = new AbortController();
      const any = AbortSignal.any([a.signal, b.signal]);
      const events = [];
      any.addEventListener('abort', () => events.push(any.reason));
      const beforeAbort = any.aborted;
      b.abort('b first');
      a.abort('a second');
      const already = AbortSignal.any([new AbortController().signal, given]);
      return {
        pre: [pre.aborted, pre.reason.name], given: given.reason, beforeAbort,
        any: [any.aborted, any.reason], events, already: [already.aborted, already.reason],
        bad: (() => { try { AbortSignal.any([{}]); } catch (e) { return e.name; } })(),
      };
    `),
    {
      pre: [true, 'AbortError'],
      given: 42,
      beforeAbort: false,
      any: [true, 'b first'],
      events: ['b first'],
      already: [true, 42],
      bad: 'TypeError',
    },
  );
});

t.test('AbortSignal.timeout aborts with a TimeoutError when the host fires the timer', async (t) => {
  const w = await TestWorker.create();
  t.teardown(() => w.dispose());
  w.deployModule(`
    export default {
      async fetch() {
        const signal = AbortSignal.timeout(50);
        const before = signal.aborted;
        await new Promise((resolve) => signal.addEventListener('abort', resolve));
        return Response.json({ before, after: signal.aborted, name: signal.reason.name, isDOMException: signal.reason instanceof DOMException });
      },
    };
  `);
  const id = w.send('https://w.example/');
  t.equal(w.answerOf(id).done, false, 'waits for the timer');
  t.same([...w.timers.values()], [50], 'one host timer armed for 50 ms');
  t.ok(w.fireNextTimer());
  const answer = w.answerOf(id);
  t.same(JSON.parse(answer.body!), { before: false, after: true, name: 'TimeoutError', isDOMException: true });
  t.throws(() => w.eval('AbortSignal.timeout(-1)'));
});

t.test('Request.signal follows init.signal, the input Request and clone()', async (t) => {
  t.same(
    ev.run(`
      const controller = new AbortController();
      const req = new Request('https://a.example/', { signal: controller.signal });
      const fromReq = new Request(req);
      const cloned = req.clone();
      const noSignal = new Request(req, { signal: null });
      const plain = new Request('https://a.example/');
      const before = [req.signal.aborted, req.signal === controller.signal, req.signal instanceof AbortSignal, plain.signal.aborted, plain.signal === plain.signal];
      controller.abort('stop');
      const preAborted = new Request('https://a.example/', { signal: AbortSignal.abort('early') });
      return {
        before,
        after: [req.signal.aborted, req.signal.reason, fromReq.signal.reason, cloned.signal.reason, noSignal.signal.aborted],
        preAborted: [preAborted.signal.aborted, preAborted.signal.reason],
        incoming: [request.signal instanceof AbortSignal, request.signal.aborted],
        bad: (() => { try { new Request('https://a.example/', { signal: { aborted: false } }); } catch (e) { return e.name; } })(),
      };
    `),
    {
      before: [false, false, true, false, true],
      after: [true, 'stop', 'stop', 'stop', false],
      preAborted: [true, 'early'],
      incoming: [true, false],
      bad: 'TypeError',
    },
  );
});

t.test('ReadableStream pipeTo honours an AbortSignal', async (t) => {
  t.same(
    ev.run(`
      const controller = new AbortController();
      const written = [];
      let cancelReason;
      const readable = new ReadableStream({
        pull(c) { c.enqueue(written.length); },
        cancel(reason) { cancelReason = reason; },
      }, { highWaterMark: 0 });
      const writable = new WritableStream({
        write(chunk) { written.push(chunk); if (written.length === 3) controller.abort(new Error('enough')); },
      });
      const result = await readable.pipeTo(writable, { signal: controller.signal }).then(() => 'resolved', (e) => e.message);
      const pre = await new ReadableStream().pipeTo(new WritableStream(), { signal: AbortSignal.abort() }).then(() => 'resolved', (e) => e.name);
      return { result, cancelReason: cancelReason?.message, enough: written.length >= 3, pre };
    `),
    { result: 'enough', cancelReason: 'enough', enough: true, pre: 'AbortError' },
  );
});
