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
  await order.change('site', (ticket) => deploy({ store, builder, order, workersDomain: 'localhost' }, ticket, 'site', 'application/javascript', upload('first'), 1 << 20));
  const result = await order.change('site', (ticket) => deploy({ store: deletingAfterPut(store, 1), builder, order, workersDomain: 'localhost' }, ticket, 'site', 'application/javascript', upload('second'), 1 << 20));
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
  const sent = (text: string) => order.change('site', (ticket) => deploy({ store, builder: slowFirst, order, workersDomain: 'localhost' }, ticket, 'site', 'application/javascript', upload(text), 1 << 20));
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
  t.equal(order.changing, 0, 'the order keeps nothing once both have ended');
});

t.test("a deploy's routes are written all or none", async (t) => {
  const store = await openFsStore(await tempDataDir(t));
  const order = new DeployOrder();
  const withRoutes = (name: string, routes: string[]) => {
    const metadata = JSON.stringify({ main_module: 'main.js', routes });
    const boundary = 'b0undary';
    const body = `--${boundary}\r\nContent-Disposition: form-data; name="metadata"\r\n\r\n${metadata}\r\n--${boundary}\r\nContent-Disposition: form-data; name="main.js"; filename="main.js"\r\nContent-Type: application/javascript+module\r\n\r\nexport default { fetch() { return new Response('x') } }\r\n--${boundary}--\r\n`;
    return order.change(name, (ticket) => deploy({ store, builder, order, workersDomain: 'localhost' }, ticket, name, `multipart/form-data; boundary=${boundary}`, new TextEncoder().encode(body), 1 << 20));
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

t.test('the order forgets a worker once its changes have ended, failed ones too', async (t) => {
  const store = await openFsStore(await tempDataDir(t));
  const order = new DeployOrder();
  const send = (name: string, body: Uint8Array) => order.change(name, (ticket) => deploy({ store, builder, order, workersDomain: 'localhost' }, ticket, name, 'application/javascript', body, 1 << 20));
  for (let i = 0; i < 20; i++) await t.rejects(send(`never-${i}`, new Uint8Array(0)), { code: 'ISO_ERR_DEPLOY_SYNTAX' });
  t.equal(order.changing, 0, 'twenty refused uploads of distinct names leave nothing');
  const during = send('site', upload('x'));
  t.equal(order.changing, 1, 'a change under way has its entry');
  await during;
  t.equal(order.changing, 0);
  // A ticket numbering that starts again is still in order.
  await send('site', upload('y'));
  t.match((await store.getVersion('site', (await store.getWorker('site'))!.activeVersion))?.modules[0]?.content, /"y"/);
});
