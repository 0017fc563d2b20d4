/**
 * A deploy and a DELETE of the same worker at once: whichever lands last wins, and the deploy never
 * answers 404 about the version it has just uploaded. The DELETE is made to land in the one window that
 * matters, between storing the version and activating it, on a real fs store.
 */
import t from 'tap';
import { deploy, type Builder } from '../../src/admin/deploy.ts';
import { DeployOrder } from '../../src/admin/deploy-order.ts';
import { IsolaneError } from '../../src/errors.ts';
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
  const order = new DeployOrder();
  await deploy({ store, builder, order, workersDomain: 'localhost' }, order.ticket('site'), 'site', 'application/javascript', upload('first'), 1 << 20);
  const result = await deploy({ store: deletingAfterPut(store, 1), builder, order, workersDomain: 'localhost' }, order.ticket('site'), 'site', 'application/javascript', upload('second'), 1 << 20);
  const worker = await store.getWorker('site');
  t.equal(worker?.activeVersion, result.version.id, 'the deploy, landing after the delete, is live');
  t.strictSame(worker?.versions, [result.version.id], 'the versions before the delete went with it');
  t.match((await store.getVersion('site', result.version.id))?.modules[0]?.content, /second/);
});

t.test('two deploys of one worker take effect in the order they arrived, however long each build takes', async (t) => {
  const store = await openFsStore(await tempDataDir(t));
  const order = new DeployOrder();
  // The first upload's build takes longer than the second's.
  const slowFirst: Builder = { validate: async (version) => (await new Promise((resolve) => setTimeout(resolve, /first/.test(version.modules[0]!.content) ? 200 : 10)), 'module') };
  const sent = (text: string) => deploy({ store, builder: slowFirst, order, workersDomain: 'localhost' }, order.ticket('site'), 'site', 'application/javascript', upload(text), 1 << 20);
  const first = sent('first');
  const second = sent('second');
  const [firstResult, secondResult] = await Promise.allSettled([first, second]);
  t.equal(secondResult.status, 'fulfilled', 'the later deploy goes live');
  t.equal(firstResult.status, 'rejected', 'the earlier one, built last, is refused');
  const error = (firstResult as PromiseRejectedResult).reason as IsolaneError;
  t.equal(error.code, 'ISO_ERR_DEPLOY_SUPERSEDED');
  t.equal(error.status, 409);
  const worker = await store.getWorker('site');
  t.equal(worker?.activeVersion, (secondResult as PromiseFulfilledResult<{ version: { id: string } }>).value.version.id, 'the later upload is live');
  t.equal(worker?.versions.length, 1, 'and the refused one was not stored');
});

t.test("a deploy's routes are written all or none", async (t) => {
  const store = await openFsStore(await tempDataDir(t));
  const order = new DeployOrder();
  const withRoutes = (name: string, routes: string[]) => {
    const metadata = JSON.stringify({ main_module: 'main.js', routes });
    const boundary = 'b0undary';
    const body = `--${boundary}\r\nContent-Disposition: form-data; name="metadata"\r\n\r\n${metadata}\r\n--${boundary}\r\nContent-Disposition: form-data; name="main.js"; filename="main.js"\r\nContent-Type: application/javascript+module\r\n\r\nexport default { fetch() { return new Response('x') } }\r\n--${boundary}--\r\n`;
    return deploy({ store, builder, order, workersDomain: 'localhost' }, order.ticket(name), name, `multipart/form-data; boundary=${boundary}`, new TextEncoder().encode(body), 1 << 20);
  };
  await withRoutes('owner', ['taken.example.com/*']);
  await t.rejects(withRoutes('newcomer', ['a.example.com/*', 'taken.example.com/*']), { code: 'ISO_ERR_ROUTE_INVALID' }, 'refused before its build');
  // Taken while the deploy was built: the store's check, under its lock, is the one that holds.
  await withRoutes('newcomer', []);
  await t.rejects(store.putRoutes('newcomer', ['a.example.com/*', 'b.example.com/*', 'taken.example.com/*']), { code: 'ISO_ERR_ROUTE_INVALID', message: /taken\.example\.com\/\* already belongs to worker owner/ });
  const routes = await store.listRoutes();
  t.strictSame(routes.filter((route) => route.worker === 'newcomer'), [], 'none of its routes was written');
  t.ok(routes.some((route) => route.pattern === 'taken.example.com/*' && route.worker === 'owner'), "and the owner's stays");
});
