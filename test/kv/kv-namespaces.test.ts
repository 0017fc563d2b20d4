/**
 * A process keeps a bounded number of KV namespaces open (src/kv/kv-namespace.ts): each holds three
 * file descriptors and a page cache, and a platform may bind thousands. Past the bound the least
 * recently used one is closed, and opens again, with its data, on its next use.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { KvNamespaces } from '../../src/kv/kv-namespace.ts';

const openFds = () => readdirSync('/proc/self/fd').length;
const bytes = (text: string) => new TextEncoder().encode(text);
const text = (value: Uint8Array) => new TextDecoder().decode(value);

t.test('open namespaces are bounded; a closed one opens again with its data', { skip: process.platform !== 'linux' && 'counts /proc/self/fd' }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'isolane-kv-'));
  const kv = new KvNamespaces(dir, 4);
  t.teardown(() => {
    kv.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const before = openFds();
  kv.get('ns0').put('k', bytes('v0'));
  const perNamespace = openFds() - before;
  t.ok(perNamespace >= 1, `one namespace holds file descriptors (${perNamespace})`);

  for (let i = 1; i < 40; i++) kv.get(`ns${i}`).put('k', bytes(`v${i}`));
  t.equal(kv.openCount, 4, 'four open of forty used');
  t.ok(openFds() - before <= 4 * perNamespace, `descriptors stay bounded: ${openFds() - before} for 4 namespaces of ${perNamespace} each`);

  // The first ones were closed long ago: they open again, and hold what was written.
  for (let i = 0; i < 40; i++) t.equal(text(kv.get(`ns${i}`).get('k')!.value), `v${i}`, `ns${i} kept its value`);
  t.equal(kv.openCount, 4);

  // The recently used one stays open while others come and go.
  const kept = kv.get('ns39');
  kv.get('ns1');
  kv.get('ns2');
  kv.get('ns3');
  t.equal(kv.get('ns39'), kept, 'a namespace in use is the same object');

  kv.close();
  t.equal(kv.openCount, 0);
  t.equal(openFds(), before, 'close gives every descriptor back');
});
