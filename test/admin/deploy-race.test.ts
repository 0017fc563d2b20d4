/**
 * A deploy and a DELETE of the same worker at once: whichever lands last wins, and the deploy never
 * answers 404 about the version it has just uploaded. The DELETE is made to land in the one window that
 * matters, between storing the version and activating it, on a real fs store.
 */
import t from 'tap';
import { deploy, type Builder } from '../../src/admin/deploy.ts';
import { openFsStore } from '../../src/store/fs-store.ts';
import type { Store } from '../../src/store/store.ts';
import { tempDataDir } from '../store/temp-dir.ts';

const builder: Builder = { validate: async () => 'module' };
const upload = (text: string) => new TextEncoder().encode(`export default { fetch() { return new Response(${JSON.stringify(text)}) } }`);

/** The store, with `deleteWorker` run right after the first `times` calls to `putVersion`. */
function deletingAfterPut(store: Store, times: number): Store {
  const putVersion = store.putVersion.bind(store);
  let left = times;
  store.putVersion = async (name, spec) => {
    const version = await putVersion(name, spec);
    if (left-- > 0) await store.deleteWorker(name);
    return version;
  };
  return store;
}

t.test('a DELETE between storing and activating the version: the deploy stores it again and is live', async (t) => {
  const store = await openFsStore(await tempDataDir(t));
  await deploy(store, builder, 'site', 'application/javascript', upload('first'), 1 << 20);
  const result = await deploy(deletingAfterPut(store, 1), builder, 'site', 'application/javascript', upload('second'), 1 << 20);
  const worker = await store.getWorker('site');
  t.equal(worker?.activeVersion, result.version.id, 'the deploy, landing after the delete, is live');
  t.strictSame(worker?.versions, [result.version.id], 'the versions before the delete went with it');
  t.match((await store.getVersion('site', result.version.id))?.modules[0]?.content, /second/);
});
