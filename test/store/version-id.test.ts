import t from 'tap';
import { canonicalJson, isVersionId, versionId } from '../../src/store/version-id.ts';
import { makeSpec } from './specs.ts';

const PINNED_ID = 'af20deba95c099863dea';

t.test('canonicalJson sorts keys at every depth and keeps array order', async (t) => {
  t.equal(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: null } }), '{"a":{"c":null,"d":[3,{"y":2,"z":1}]},"b":1}');
  t.equal(canonicalJson([2, 1]), '[2,1]');
  t.equal(canonicalJson({ a: undefined, b: 1 }), '{"b":1}', 'undefined dropped, as JSON.stringify does');
  t.equal(canonicalJson(undefined), 'null');
});

t.test('versionId: 20 hex digits of content, stable across releases', async (t) => {
  const id = versionId('site', makeSpec('one'));
  t.ok(isVersionId(id));
  t.equal(versionId('site', JSON.parse(JSON.stringify(makeSpec('one')))), id, 'survives a JSON round trip');
  t.not(versionId('site2', makeSpec('one')), id);

  // Pinned: ids on disk are compared with ids of fresh uploads. A new serialisation needs a new domain
  // string in version-id.ts, never a silent change of this value.
  const spec = {
    syntax: 'module',
    main: 'main.js',
    modules: [{ name: 'main.js', type: 'esm', content: 'export default {}' }],
    bindings: [{ type: 'json', name: 'C', json: { b: 1, a: [1, 2] } }],
    compatibilityDate: null,
    limits: { cpuMs: 50, memoryMb: 128, wallMs: 30000, concurrency: 64 },
  } as const;
  t.equal(versionId('site', structuredClone(spec) as never), PINNED_ID);
});

t.test('isVersionId', async (t) => {
  t.ok(isVersionId('0123456789abcdef0123'));
  for (const bad of ['', '0123456789ABCDEF0123', '0123456789abcdef012', '../0123456789abcdef0', 42, null]) {
    t.notOk(isVersionId(bad), String(bad));
  }
});

t.test('a "__proto__" key is a key like any other, in the JSON and in the id', async (t) => {
  const first = JSON.parse('{"__proto__":{"flag":"first"}}');
  const second = JSON.parse('{"__proto__":{"flag":"second"}}');
  t.equal(canonicalJson(first), '{"__proto__":{"flag":"first"}}');
  const spec = makeSpec('proto');
  const withJson = (json: unknown) => ({ ...spec, bindings: [{ type: 'json' as const, name: 'X', json }] });
  t.not(versionId('w', withJson(first)), versionId('w', withJson(second)));
});
