/**
 * URLPattern's compiled patterns are shared between equal constructor arguments (runtime/url/url-pattern.ts).
 * What code can observe must stay as without sharing: new objects, the arguments read once, options
 * that change the match, errors every time.
 * The standard's own cases are in test/wpt (urlpatterntestdata.json).
 */
import t from 'tap';
import { Evaluator } from './harness.ts';

const w = await Evaluator.create();
t.teardown(() => w.dispose());

t.test('equal arguments give distinct objects that match alike', async (t) => {
  t.same(
    w.run(`
      const a = new URLPattern({ pathname: '/users/:id' });
      const b = new URLPattern({ pathname: '/users/:id' });
      b.note = 'mine';
      return [a === b, 'note' in a, a.exec('https://x.test/users/7').pathname.groups.id, b.exec('https://x.test/users/8').pathname.groups.id,
        a instanceof URLPattern, Object.prototype.toString.call(a), URLPattern.name, URLPattern.length, a.test.length, a.exec.length];
    `),
    [false, false, '7', '8', true, '[object URLPattern]', 'URLPattern', 0, 0, 0],
  );
});

t.test('a dictionary is read once, member by member in Web IDL order, and the pattern is what was read', async (t) => {
  t.same(
    w.run(`
      const reads = [];
      let n = 0;
      const init = {
        get pathname() { reads.push('pathname'); return n++ === 0 ? '/first/:x' : '/second/:x'; },
        get hostname() { reads.push('hostname'); return undefined; },
        get baseURL() { reads.push('baseURL'); return undefined; },
      };
      const p = new URLPattern(init);
      const again = new URLPattern(init);
      return [reads, p.pathname, p.test('https://x.test/first/1'), again.pathname];
    `),
    [
      ['baseURL', 'hostname', 'pathname', 'baseURL', 'hostname', 'pathname'],
      '/first/:x',
      true,
      '/second/:x',
    ],
  );
});

t.test('options and base URLs are part of what is shared', async (t) => {
  t.same(
    w.run(`
      const plain = new URLPattern('/Books/:id', 'https://x.test');
      const folded = new URLPattern('/Books/:id', 'https://x.test', { ignoreCase: true });
      const other = new URLPattern('/Books/:id', 'https://y.test');
      const dictFolded = new URLPattern({ pathname: '/Books' }, { ignoreCase: true });
      const dictPlain = new URLPattern({ pathname: '/Books' });
      return [plain.test('https://x.test/books/1'), folded.test('https://x.test/books/1'), other.hostname, plain.hostname,
        dictFolded.test({ pathname: '/books' }), dictPlain.test({ pathname: '/books' })];
    `),
    [false, true, 'y.test', 'x.test', true, false],
  );
});

t.test('dictionary members are converted to strings, as Web IDL says (the polyfill ignored them)', async (t) => {
  t.same(
    w.run(`
      const p = new URLPattern({ pathname: { toString() { return '/obj/:id'; } } });
      let symbol = null;
      try { new URLPattern({ pathname: Symbol('x') }); } catch (e) { symbol = e instanceof TypeError; }
      let options = null;
      try { new URLPattern('/x', 'https://x.test', 5); options = 'constructed'; } catch (e) { options = e.name; }
      return [p.pathname, p.exec({ pathname: '/obj/3' }).pathname.groups.id, symbol, options];
    `),
    ['/obj/:id', '3', true, 'constructed'],
  );
});

t.test('a bad pattern throws a TypeError each time; nothing is kept of it', async (t) => {
  t.same(
    w.run(`
      const errors = [];
      for (let i = 0; i < 2; i++) {
        try { new URLPattern('/a/(', 'https://x.test'); errors.push('constructed'); } catch (e) { errors.push(e instanceof TypeError); }
      }
      try { new URLPattern({ pathname: '/x' }, 'https://x.test'); } catch (e) { errors.push(e instanceof TypeError); }
      return errors;
    `),
    [true, true, true],
  );
});

t.test('more distinct patterns than are kept still compile and match', async (t) => {
  t.same(
    w.run(`
      const ids = [];
      for (let round = 0; round < 2; round++) {
        for (let i = 0; i < 300; i++) {
          const m = new URLPattern({ pathname: '/p' + i + '/:id' }).exec('https://x.test/p' + i + '/' + round);
          if (m?.pathname.groups.id !== String(round)) ids.push('miss ' + i);
        }
      }
      return ids;
    `),
    [],
  );
});

t.test('compareComponent takes instances of the global class; the getters refuse other receivers', async (t) => {
  t.same(
    w.run(`
      const a = new URLPattern({ pathname: '/a' });
      const b = new URLPattern({ pathname: '/b' });
      let refused = false;
      try { Object.getOwnPropertyDescriptor(URLPattern.prototype, 'pathname').get.call({}); } catch (e) { refused = e instanceof TypeError; }
      return [URLPattern.compareComponent('pathname', a, b), URLPattern.compareComponent('pathname', b, a), URLPattern.compareComponent('pathname', a, a), refused,
        new URLPattern('https://x.test/:a(\\\\d+)').hasRegExpGroups];
    `),
    [-1, 1, 0, true, true],
  );
});

// Last: it leaves Object.prototype with members of its own.
t.test("members a dictionary inherits are read, as Web IDL reads them; no options means case-sensitive", async (t) => {
  t.same(
    w.run(`
      Object.prototype.hostname = 'inherited.test';
      Object.prototype.ignoreCase = true;
      const a = new URLPattern({ pathname: '/polluted-a' });
      const b = new URLPattern({ pathname: '/polluted-b' });
      const c = new URLPattern('/polluted-c', 'https://x.test');
      return [a.pathname, b.pathname, a.hostname, c.pathname, c.test('https://x.test/POLLUTED-C')];
    `),
    ['/polluted-a', '/polluted-b', 'inherited.test', '/polluted-c', false],
  );
});
