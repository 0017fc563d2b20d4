import t from 'tap';
import { Evaluator, TestWorker } from './harness.ts';

const w = await TestWorker.create();
t.teardown(() => w.dispose());

/** Run `code` (console calls) and return the [level, line] pairs it logged. */
function logged(code: string): [string, string][] {
  const before = w.logs().length;
  w.eval(code);
  return w.logs().slice(before);
}

t.test('levels map to host log levels', async (t) => {
  t.same(logged(`console.log('a'); console.info('b'); console.warn('c'); console.error('d'); console.debug('e')`), [
    ['log', 'a'],
    ['info', 'b'],
    ['warn', 'c'],
    ['error', 'd'],
    ['debug', 'e'],
  ]);
});

t.test('strings raw at top level, quoted inside; values like util.inspect', async (t) => {
  t.same(
    logged(`
      console.log('plain', "it's", 42, -0, 10n, true, null, undefined, Symbol('s'));
      console.log({ a: 1, 'b-c': 'x', nested: { deep: { deeper: { deepest: 1 } } }, list: [1, 'two', [3]] });
      console.log([1, , 3], [], {}, Object.create(null), new Map([['k', { v: 1 }]]), new Set([1, 'a']));
      console.log(function named() {}, () => {}, class Foo {}, new Date(0), /re+/g, new Uint8Array([1, 2]));
      console.log(new ArrayBuffer(8), [undefined, null], { s: Symbol.iterator, [Symbol('k')]: 1 }, new (class Point { x = 1 })());
      console.log({ get g() { throw new Error('never run') }, set s(v) {} });
      console.log('%s is %d years and %i days, %f%% sure, %j %o %c!', 'Bob', 42.5, 3.9, 0.5, { j: 1 }, [1], 'color: red', 'extra');
      console.log('%s', { a: 1 }, '%d');
      console.log([new Error('inner')].length, new String('s'), new Number(3), Object(1n));
    `),
    [
      ['log', "plain it's 42 -0 10n true null undefined Symbol(s)"],
      ['log', "{ a: 1, 'b-c': 'x', nested: { deep: { deeper: [Object] } }, list: [ 1, 'two', [ 3 ] ] }"],
      ['log', "[ 1, <1 empty item>, 3 ] [] {} [Object: null prototype] {} Map(1) { 'k' => { v: 1 } } Set(2) { 1, 'a' }"],
      ['log', "[Function: named] [Function: (anonymous)] [class Foo] 1970-01-01T00:00:00.000Z /re+/g Uint8Array(2) [ 1, 2 ]"],
      ['log', 'ArrayBuffer { byteLength: 8 } [ undefined, null ] { s: Symbol(Symbol.iterator), [Symbol(k)]: 1 } Point { x: 1 }'],
      ['log', '{ g: [Getter], s: [Setter] }'],
      ['log', `Bob is 42.5 years and 3 days, 0.5% sure, {"j":1} [ 1 ] ! extra`],
      ['log', '{ a: 1 } %d'],
      ['log', "1 [String: 's'] [Number: 3] [BigInt: 1n]"],
    ],
  );
});

t.test('cycles and depth are bounded', async (t) => {
  const lines = logged(`
    const a = { name: 'a' }; a.self = a; a.list = [a];
    console.log(a);
    const arr = [1]; arr.push(arr);
    console.log(arr);
    console.log(Array.from({ length: 150 }, (_, i) => i));
  `);
  t.same(lines.slice(0, 2), [
    ['log', "{ name: 'a', self: [Circular], list: [ [Circular] ] }"],
    ['log', '[ 1, [Circular] ]'],
  ]);
  t.match(lines[2], ['log', /^\[ 0, 1, 2, .*, 98, 99, \.\.\. 50 more items \]$/]);
});

t.test('errors print with their stack', async (t) => {
  const lines = logged(`
    function thrower() { return new TypeError('went wrong') }
    console.error(thrower());
    console.log({ error: new RangeError('nested') });
    const e = new Error('with cause', { cause: 'because' }); e.code = 'E_X';
    console.log(e);
  `);
  t.match(lines[0], ['error', /^TypeError: went wrong\n {4}at thrower \(/]);
  t.match(lines[1], ['log', /^\{ error: \[RangeError: nested\n {4}at /]);
  t.match(lines[2], ['log', /^Error: with cause\n {4}at [^]*\{ code: 'E_X', cause: 'because' \}$/]);
});

t.test('runtime objects print their state', async (t) => {
  t.same(logged(`console.log(new Headers({ b: '2', a: '1' }))`), [['log', "Headers { a: '1', b: '2' }"]]);
  t.match(logged(`console.log(new Response('x', { status: 201 }))`), [
    ['log', /^Response \{ status: 201, statusText: '', headers: Headers \{ 'content-type': 'text\/plain;charset=UTF-8' \}, ok: true/],
  ]);
  t.match(logged(`console.log(new Request('https://a.example/p'))`), [
    ['log', /^Request \{ method: 'GET', url: 'https:\/\/a.example\/p', headers: Headers \{\}/],
  ]);
});

t.test('a line is cut at 16 KB; a huge value does not build a huge string', async (t) => {
  const [[, line]] = logged(`console.log('x'.repeat(100000))`) as [[string, string]];
  t.ok(line.length < 16 * 1024 + 64, `line length ${line.length}`);
  t.match(line, /… \[\d+ more characters\]$/);
  const [[, big]] = logged(`console.log(Array.from({ length: 1000 }, () => ({ text: 'y'.repeat(1000) })))`) as [[string, string]];
  t.ok(big.length < 16 * 1024 + 64, `structured line length ${big.length}`);
});

t.test('assert, count, time, group, trace, dir, table', async (t) => {
  const lines = logged(`
    console.assert(true, 'not shown');
    console.assert(false, 'shown %s', 'here');
    console.count(); console.count(); console.count('x'); console.countReset(); console.count();
    console.group('G'); console.log('inside\\nlines'); console.groupEnd(); console.log('outside');
    console.time('t'); console.timeEnd('t'); console.timeEnd('t');
    console.trace('here');
    console.dir({ a: 1 });
    console.table([{ a: 1 }]);
  `);
  t.same(lines.slice(0, 8), [
    ['error', 'Assertion failed: shown here'],
    ['info', 'default: 1'],
    ['info', 'default: 2'],
    ['info', 'x: 1'],
    ['info', 'default: 1'],
    ['log', 'G'],
    ['log', '  inside\n  lines'],
    ['log', 'outside'],
  ]);
  t.match(lines[8], ['info', /^t: \d+ms$/]);
  t.same(lines[9], ['warn', "Timer 't' does not exist"]);
  t.match(lines[10], ['log', /^Trace: here\n {4}at /]);
  t.same(lines.slice(11), [
    ['log', '{ a: 1 }'],
    ['log', '[ { a: 1 } ]'],
  ]);
});

t.test('hostile values do not break console', async (t) => {
  const lines = logged(`
    const proxy = new Proxy({}, { ownKeys() { throw new Error('trap') } });
    let threw = false;
    try { console.log(proxy) } catch { threw = true }
    console.log({ [Symbol.toStringTag]: 'Date', a: 1 });
    const err = new Error('x'); Object.defineProperty(err, 'stack', { get() { throw new Error('no stack') } });
    console.log(err);
    console.log('done', threw);
  `);
  t.same(lines.at(-1), ['log', 'done true'], 'a throwing proxy trap surfaces as an exception of console.log');
  t.match(lines[0], ['log', /a: 1/]);
  t.same(lines[1], ['log', 'Error: x']);
});

t.test("console methods that print nothing here exist, so that code calling them does not throw; navigator's fields", async (t) => {
  const ev = await Evaluator.create();
  t.teardown(() => ev.dispose());
  t.same(
    ev.run(`
      console.clear(); console.profile('p'); console.profileEnd('p'); console.timeStamp('t'); console.dirxml({ a: 1 });
      return [navigator.hardwareConcurrency, navigator.language, navigator.languages, typeof navigator.userAgent];
    `),
    [1, 'en', ['en'], 'string'],
  );
});
