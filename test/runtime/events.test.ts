import t from 'tap';
import { Evaluator, TestWorker } from './harness.ts';

const ev = await Evaluator.create();
t.teardown(() => ev.dispose());

t.test('Event: init flags, preventDefault only when cancelable, constants', async (t) => {
  t.same(
    ev.run(`
      const e = new Event('x', { bubbles: true, cancelable: true });
      const before = [e.type, e.bubbles, e.cancelable, e.composed, e.defaultPrevented, e.eventPhase, e.target, e.isTrusted];
      e.preventDefault();
      const plain = new Event('y');
      plain.preventDefault();
      return {
        before, prevented: [e.defaultPrevented, e.returnValue], plain: plain.defaultPrevented,
        constants: [Event.NONE, Event.AT_TARGET, e.BUBBLING_PHASE], tag: Object.prototype.toString.call(e),
        noArgs: (() => { try { new Event(); } catch (err) { return err.name; } })(),
      };
    `),
    {
      before: ['x', true, true, false, false, 0, null, false],
      prevented: [true, false],
      plain: false,
      constants: [0, 2, 3],
      tag: '[object Event]',
      noArgs: 'TypeError',
    },
  );
});

t.test('EventTarget: order, once, capture, handleEvent, duplicates, stopImmediatePropagation', async (t) => {
  t.same(
    ev.run(`
      const target = new EventTarget();
      const seen = [];
      const f = (e) => seen.push(['f', e.target === target, e.currentTarget === target, e.eventPhase]);
      target.addEventListener('go', f);
      target.addEventListener('go', f); // duplicate: ignored
      target.addEventListener('go', () => seen.push('once'), { once: true });
      target.addEventListener('go', { handleEvent(e) { seen.push(['obj', this !== target]); } });
      target.addEventListener('go', () => seen.push('capture'), true);
      target.addEventListener('go', null);
      const r1 = target.dispatchEvent(new Event('go'));
      seen.push('--');
      target.removeEventListener('go', f);
      target.dispatchEvent(new Event('go'));
      seen.push('--');
      const t2 = new EventTarget();
      t2.addEventListener('s', (e) => { seen.push('a'); e.stopImmediatePropagation(); });
      t2.addEventListener('s', () => seen.push('b'));
      t2.dispatchEvent(new Event('s'));
      const c = new Event('c', { cancelable: true });
      t2.addEventListener('c', (e) => e.preventDefault());
      const r2 = t2.dispatchEvent(c);
      const passive = new Event('p', { cancelable: true });
      t2.addEventListener('p', (e) => e.preventDefault(), { passive: true });
      const r3 = t2.dispatchEvent(passive);
      return { seen, r1, r2, r3, phaseAfter: c.eventPhase, currentAfter: c.currentTarget, targetAfter: c.target === t2 };
    `),
    {
      seen: [
        'capture', ['f', true, true, 2], 'once', ['obj', true], '--',
        'capture', ['obj', true], '--',
        'a',
      ],
      r1: true,
      r2: false,
      r3: true,
      phaseAfter: 0,
      currentAfter: null,
      targetAfter: true,
    },
  );
});

t.test('EventTarget: signal option removes the listener; a listener error does not stop the others', async (t) => {
  t.same(
    ev.run(`
      const target = new EventTarget();
      const seen = [];
      const controller = new AbortController();
      target.addEventListener('x', () => seen.push('signal'), { signal: controller.signal });
      target.addEventListener('x', () => { throw new Error('boom'); });
      target.addEventListener('x', () => seen.push('after'));
      target.addEventListener('x', () => seen.push('never'), { signal: AbortSignal.abort() });
      target.dispatchEvent(new Event('x'));
      controller.abort();
      target.dispatchEvent(new Event('x'));
      const badSignal = (() => { try { target.addEventListener('x', () => {}, { signal: {} }); } catch (e) { return e.name; } })();
      const notEvent = (() => { try { target.dispatchEvent({ type: 'x' }); } catch (e) { return e.name; } })();
      return { seen, badSignal, notEvent };
    `),
    { seen: ['signal', 'after', 'after'], badSignal: 'TypeError', notEvent: 'TypeError' },
  );
  t.match(ev.worker.logs().map((l) => l[1]).join('\n'), /Uncaught Error: boom/);
});

t.test('CustomEvent detail; subclassing EventTarget; re-dispatch during dispatch throws', async (t) => {
  t.same(
    ev.run(`
      class Emitter extends EventTarget {}
      const em = new Emitter();
      let inner = null;
      let detail;
      em.addEventListener('hello', (e) => {
        detail = e.detail;
        try { em.dispatchEvent(e); } catch (err) { inner = err.name; }
      });
      const ce = new CustomEvent('hello', { detail: { n: 1 } });
      em.dispatchEvent(ce);
      return [detail, inner, ce instanceof Event, new CustomEvent('x').detail, Object.prototype.toString.call(em)];
    `),
    [{ n: 1 }, 'InvalidStateError', true, null, '[object EventTarget]'],
  );
});

t.test('global addEventListener/dispatchEvent, reportError fires "error" at the global', async (t) => {
  const w = await TestWorker.create();
  t.teardown(() => w.dispose());
  t.equal(
    w.deployScript(`
      const seen = [];
      addEventListener('custom', function (e) { seen.push([e.type, this === globalThis, e.currentTarget === globalThis]); }, { once: true });
      dispatchEvent(new Event('custom'));
      dispatchEvent(new Event('custom'));
      addEventListener('error', (e) => { seen.push(['error', e.message, e.error?.message, e instanceof ErrorEvent]); if (e.error?.message === 'handled') e.preventDefault(); });
      reportError(new Error('handled'));
      reportError(new Error('logged'));
      addEventListener('fetch', (event) => event.respondWith(new Response(JSON.stringify([seen, event instanceof Event, event.type]))));
    `),
    'service-worker',
  );
  const answer = w.fetch('https://w.example/');
  t.same(JSON.parse(answer.body!), [
    [['custom', true, true], ['error', 'Uncaught Error: handled', 'handled', true], ['error', 'Uncaught Error: logged', 'logged', true]],
    true,
    'fetch',
  ]);
  const errors = w.logs().filter((l) => l[0] === 'error').map((l) => l[1]);
  t.equal(errors.length, 1, 'only the uncanceled error is logged');
  t.match(errors[0], /Uncaught Error: logged/);
});

t.test('ErrorEvent, MessageEvent, CloseEvent and PromiseRejectionEvent: their init members and defaults', async (t) => {
  const e = await Evaluator.create();
  t.teardown(() => e.dispose());
  const promise = 'Promise.resolve()';
  t.same(
    e.run(`
      const order = [];
      const init = new Proxy({ message: 'm', filename: 'f.js', lineno: 3, colno: 4, error: 7, bubbles: true }, { get(target, key) { order.push(key); return target[key]; } });
      const error = new ErrorEvent('error', init);
      const bare = new ErrorEvent('error');
      const message = new MessageEvent('message', { data: { a: 1 }, origin: 'https://o', lastEventId: '9', ports: [] });
      const close = new CloseEvent('close', { code: 1000 + 65536, reason: 'bye', wasClean: 1 });
      const p = ${promise};
      const rejection = new PromiseRejectionEvent('unhandledrejection', { promise: p, reason: 'why' });
      const errors = [];
      try { new PromiseRejectionEvent('x', {}) } catch (err) { errors.push(err.name) }
      try { new ErrorEvent() } catch (err) { errors.push(err.name) }
      return [
        [error.message, error.filename, error.lineno, error.colno, error.error, error.bubbles, error instanceof Event, String(error)],
        [bare.message, bare.filename, bare.lineno, bare.colno, bare.error],
        order.filter((key) => typeof key === 'string'),
        [message.data, message.origin, message.lastEventId, message.source, message.ports, Object.isFrozen(message.ports), new MessageEvent('m').data],
        [close.code, close.reason, close.wasClean, new CloseEvent('c').code],
        [rejection.promise === p, rejection.reason],
        errors,
      ];
    `),
    [
      ['m', 'f.js', 3, 4, 7, true, true, '[object ErrorEvent]'],
      ['', '', 0, 0, null],
      ['bubbles', 'cancelable', 'composed', 'colno', 'error', 'filename', 'lineno', 'message'],
      [{ a: 1 }, 'https://o', '9', null, [], true, null],
      [1000, 'bye', true, 0],
      [true, 'why'],
      ['TypeError', 'TypeError'],
    ],
  );
});

t.test('fetch listeners: once runs for one request only; a signal removes one', async (t) => {
  const w = await TestWorker.create();
  t.teardown(() => w.dispose());
  w.deployScript(`
    const controller = new AbortController();
    let n = 0;
    addEventListener('fetch', (e) => e.respondWith(new Response('first')), { once: true });
    addEventListener('fetch', (e) => { n++; if (n === 2) controller.abort(); }, { signal: controller.signal });
    addEventListener('fetch', (e) => e.respondWith(new Response('later ' + n)));
  `);
  t.equal(w.fetch('https://w.example/').body, 'first');
  t.equal(w.fetch('https://w.example/').body, 'later 1');
  t.equal(w.fetch('https://w.example/').body, 'later 2');
  t.equal(w.fetch('https://w.example/').body, 'later 2');
});
