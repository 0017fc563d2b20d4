import t from 'tap';
import { Evaluator } from './harness.ts';

const ev = await Evaluator.create();
t.teardown(() => ev.dispose());

t.test('values, wrappers, dates, regexps, maps, sets, arrays', async (t) => {
  t.same(
    ev.run(`
      const source = {
        n: 1, s: 'x', b: true, nil: null, u: undefined, big: 10n, neg: -0,
        date: new Date(86400000), re: /a+b/gi, map: new Map([[{ k: 1 }, 'v']]), set: new Set([1, 'two']),
        arr: [1, , 3], boxed: [new Number(2), new String('s'), new Boolean(false), Object(3n)],
        nested: { deep: { deeper: [1, { x: 2 }] } },
      };
      source.arr.extra = 'kept';
      const c = structuredClone(source);
      return [
        c !== source, c.n, c.s, c.b, c.nil, 'u' in c, typeof c.big, Object.is(c.neg, -0),
        c.date instanceof Date, c.date !== source.date, c.date.getTime(),
        c.re instanceof RegExp, c.re.source, c.re.flags,
        c.map instanceof Map, [...c.map][0][0].k, [...c.map][0][1], [...c.set],
        c.arr.length, 1 in c.arr, c.arr[2], c.arr.extra,
        c.boxed.map((x) => [typeof x, x.valueOf().toString()]),
        JSON.stringify(c.nested), Object.getPrototypeOf(c) === Object.prototype,
      ];
    `),
    [
      true, 1, 'x', true, null, true, 'bigint', true,
      true, true, 86400000,
      true, 'a+b', 'gi',
      true, 1, 'v', [1, 'two'],
      3, false, 3, 'kept',
      [['object', '2'], ['object', 's'], ['object', 'false'], ['object', '3']],
      '{"deep":{"deeper":[1,{"x":2}]}}', true,
    ],
  );
});

t.test('cycles and shared references are kept', async (t) => {
  t.same(
    ev.run(`
      const shared = { v: 1 };
      const a = { shared, again: shared, list: [shared] };
      a.self = a;
      const c = structuredClone(a);
      return [c.self === c, c.shared === c.again, c.list[0] === c.shared, c.shared !== shared];
    `),
    [true, true, true, true],
  );
});

t.test('buffers and views; views of one buffer share the cloned buffer', async (t) => {
  t.same(
    ev.run(`
      const buffer = new Uint8Array([1, 2, 3, 4]).buffer;
      const a = new Uint8Array(buffer, 1, 2);
      const b = new DataView(buffer, 2);
      const f = new Float64Array([1.5]);
      const c = structuredClone({ a, b, buffer, f });
      c.a[1] = 99;
      return [c.a instanceof Uint8Array, [...c.a], c.b.getUint8(0), c.a.buffer === c.buffer, c.b.buffer === c.buffer,
              new Uint8Array(buffer)[2], c.f[0], c.f instanceof Float64Array];
    `),
    [true, [2, 99], 99, true, true, 3, 1.5, true],
  );
});

t.test('transfer detaches ArrayBuffers', async (t) => {
  t.same(
    ev.run(`
      const buffer = new Uint8Array([5, 6]).buffer;
      const view = new Uint8Array(buffer);
      const c = structuredClone({ view }, { transfer: [buffer] });
      const errors = [];
      for (const attempt of [() => structuredClone(1, { transfer: [buffer] }), () => structuredClone(1, { transfer: [{}] }),
                             () => { const b = new ArrayBuffer(1); structuredClone(1, { transfer: [b, b] }) }]) {
        try { attempt(); errors.push('none') } catch (e) { errors.push(e.name) }
      }
      return [[...c.view], buffer.byteLength, buffer.detached, errors];
    `),
    [[5, 6], 0, true, ['DataCloneError', 'DataCloneError', 'DataCloneError']],
  );
});

t.test('errors keep their type, message, stack and cause', async (t) => {
  t.same(
    ev.run(`
      const e = new TypeError('bad', { cause: { why: 1 } });
      const c = structuredClone(e);
      const d = structuredClone(new DOMException('gone', 'AbortError'));
      class Custom extends RangeError {}
      const custom = structuredClone(new Custom('c'));
      return [c instanceof TypeError, c.message, c.cause.why, c.stack === e.stack, c !== e,
              d instanceof DOMException, d.name, d.message, d.code, custom.constructor === RangeError];
    `),
    [true, 'bad', 1, true, true, true, 'AbortError', 'gone', 20, true],
  );
});

t.test('uncloneable values throw DataCloneError', async (t) => {
  for (const code of [
    '() => {}',
    'Symbol()',
    '{ f() {} }',
    'new WeakMap()',
    'Promise.resolve()',
    'new SharedArrayBuffer(1)',
    'new Headers()',
    'new Response()',
    "new Request('https://a.example/')",
  ]) {
    t.throws(() => ev.run(`structuredClone(${code})`), { name: 'DataCloneError' }, code);
  }
  t.throws(() => ev.run(`structuredClone()`), { name: 'TypeError' });
});

t.test('kinds come from internal slots: a spoofed tag clones as a plain object, a real buffer as a buffer', async (t) => {
  t.same(
    ev.run(`
      const fake = { [Symbol.toStringTag]: 'ArrayBuffer', byteLength: 4 };
      const fakeMap = { [Symbol.toStringTag]: 'Map', size: 1 };
      const real = new Uint8Array([7, 8]).buffer;
      const c = structuredClone({ fake, fakeMap, real });
      return [Object.getPrototypeOf(c.fake) === Object.prototype, c.fake.byteLength, c.fakeMap instanceof Map,
              c.real instanceof ArrayBuffer, [...new Uint8Array(c.real)], c.real !== real];
    `),
    [true, 4, false, true, [7, 8], true],
  );
});
