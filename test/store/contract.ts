/**
 * The contract every Store implementation passes. A backend's test file calls `storeContract(t, factory)`
 * with a factory that gives a fresh, empty store per subtest (and removes it in `t.teardown`).
 */
import type { ChildProcess } from 'node:child_process';
import type { Test } from 'tap';
import { KEPT_VERSIONS, type Store, type StoreChange } from '../../src/store/store.ts';
import { versionId } from '../../src/store/version-id.ts';
import type { Version, VersionSpec } from '../../src/types.ts';
import { LOOP_WORKERS } from './deploy-loop.ts';
import { labelOf, makeSpec } from './specs.ts';

export interface StoreFixture {
  store: Store;
  /** A new instance over the same data, as the server sees it after a restart. */
  reopen(): Promise<Store>;
  /**
   * Runs `deployLoop(store, start)` (deploy-loop.ts) in a child process on the same data. Without it the
   * crash test is skipped.
   */
  spawnDeployer?(start: number): ChildProcess;
}

export type StoreFactory = (t: Test) => Promise<StoreFixture>;

function specOf(version: Version): VersionSpec {
  const { id: _id, worker: _worker, createdAt: _createdAt, ...spec } = version;
  return spec;
}

async function deploy(store: Store, worker: string, label: string): Promise<Version> {
  const version = await store.putVersion(worker, makeSpec(label));
  await store.activate(worker, version.id);
  return version;
}

export function storeContract(t: Test, factory: StoreFactory): void {
  t.test('an empty store', async (t) => {
    const { store } = await factory(t);
    t.strictSame(await store.listWorkers(), []);
    t.strictSame(await store.listRoutes(), []);
    t.equal(await store.getWorker('nobody'), null);
    t.equal(await store.getVersion('nobody', '0123456789abcdef0123'), null);
    t.equal(await store.deleteWorker('nobody'), false);
    t.equal(await store.deleteRoute('example.com/*'), false);
  });

  t.test('putVersion stores a content-addressed version that reads back whole', async (t) => {
    const { store } = await factory(t);
    const spec = makeSpec('one');
    const version = await store.putVersion('site', spec);
    t.match(version.id, /^[0-9a-f]{20}$/);
    t.equal(version.id, versionId('site', spec), 'the id can be computed before storing');
    t.equal(version.worker, 'site');
    t.ok(!Number.isNaN(Date.parse(version.createdAt)), 'createdAt is an ISO date');
    t.strictSame(specOf(version), spec);
    t.strictSame(await store.getVersion('site', version.id), version);
    t.equal(await store.getVersion('other', version.id), null, 'versions belong to one worker');
    t.equal(await store.getVersion('site', 'not-an-id'), null);
    t.equal(await store.getVersion('site', '../../routes'), null);
  });

  t.test('putVersion is idempotent and ids follow content, worker and nothing else', async (t) => {
    const { store } = await factory(t);
    const first = await store.putVersion('site', makeSpec('one'));
    await new Promise((resolve) => setTimeout(resolve, 5));
    const again = await store.putVersion('site', makeSpec('one'));
    t.strictSame(again, first, 'same id, same createdAt');

    const reordered = Object.fromEntries(Object.entries(makeSpec('one')).reverse()) as unknown as VersionSpec;
    t.equal((await store.putVersion('site', reordered)).id, first.id, 'key order does not matter');
    t.equal((await store.putVersion('site', first)).id, first.id, 'a Version passed back in as a spec');
    t.not((await store.putVersion('site', makeSpec('two'))).id, first.id);
    t.not((await store.putVersion('other', makeSpec('one'))).id, first.id);
    const limits = { ...makeSpec('one'), limits: { ...makeSpec('one').limits, cpuMs: 51 } };
    t.not((await store.putVersion('site', limits)).id, first.id, 'config is part of the version');
  });

  t.test('putVersion alone does not create a worker', async (t) => {
    const { store } = await factory(t);
    await store.putVersion('site', makeSpec('one'));
    t.equal(await store.getWorker('site'), null);
    t.strictSame(await store.listWorkers(), []);
  });

  t.test('activate creates the worker and points it at the version', async (t) => {
    const { store } = await factory(t);
    const version = await store.putVersion('site', makeSpec('one'));
    const record = await store.activate('site', version.id);
    t.match(record, { name: 'site', activeVersion: version.id, versions: [version.id] });
    t.equal(record.createdAt, record.updatedAt);
    t.strictSame(await store.getWorker('site'), record);

    await deploy(store, 'api', 'a');
    await deploy(store, 'blog', 'b');
    t.strictSame(
      (await store.listWorkers()).map((worker) => worker.name),
      ['api', 'blog', 'site'],
      'sorted by name',
    );
  });

  t.test('activation order and retention of the last versions', async (t) => {
    const { store } = await factory(t);
    const versions: Version[] = [];
    for (let i = 0; i < KEPT_VERSIONS + 2; i++) versions.push(await deploy(store, 'site', `v${i}`));
    const record = await store.getWorker('site');
    const newestFirst = versions.map((version) => version.id).reverse();
    t.equal(record?.activeVersion, newestFirst[0]);
    t.strictSame(record?.versions, newestFirst.slice(0, KEPT_VERSIONS));
    t.ok(record && record.updatedAt >= record.createdAt);
    for (const id of newestFirst.slice(0, KEPT_VERSIONS)) t.not(await store.getVersion('site', id), null, `kept ${id}`);
    for (const id of newestFirst.slice(KEPT_VERSIONS)) t.equal(await store.getVersion('site', id), null, `dropped ${id}`);
    await t.rejects(store.activate('site', newestFirst.at(-1)!), { code: 'ISO_ERR_VERSION_NOT_FOUND' });
  });

  t.test('rollback activates an older kept version', async (t) => {
    const { store } = await factory(t);
    const v1 = await deploy(store, 'site', 'v1');
    const v2 = await deploy(store, 'site', 'v2');
    const v3 = await deploy(store, 'site', 'v3');
    const record = await store.activate('site', v1.id);
    t.equal(record.activeVersion, v1.id);
    t.strictSame(record.versions, [v1.id, v3.id, v2.id], 'moved to the front, no duplicates');
    t.strictSame(await store.getWorker('site'), record);

    // Re-deploying identical code is the same version: a rollback too.
    const again = await store.putVersion('site', makeSpec('v3'));
    t.equal(again.id, v3.id);
    t.strictSame((await store.activate('site', again.id)).versions, [v3.id, v1.id, v2.id]);
  });

  t.test('activate refuses what is not a stored version of that worker', async (t) => {
    const { store } = await factory(t);
    const version = await store.putVersion('site', makeSpec('one'));
    await t.rejects(store.activate('site', '0123456789abcdef0123'), { code: 'ISO_ERR_VERSION_NOT_FOUND', status: 404 });
    await t.rejects(store.activate('site', 'bogus'), { code: 'ISO_ERR_VERSION_NOT_FOUND' });
    await t.rejects(store.activate('other', version.id), { code: 'ISO_ERR_VERSION_NOT_FOUND' });
    t.equal(await store.getWorker('other'), null);
  });

  t.test('re-activating the active version changes nothing', async (t) => {
    const { store } = await factory(t);
    const version = await deploy(store, 'site', 'one');
    const before = await store.getWorker('site');
    const changes: StoreChange[] = [];
    store.onChange((change) => changes.push(change));
    t.strictSame(await store.activate('site', version.id), before);
    t.strictSame(changes, []);
  });

  t.test('deleteWorker removes the worker, its versions and its routes only', async (t) => {
    const { store } = await factory(t);
    const version = await deploy(store, 'site', 'one');
    await deploy(store, 'other', 'two');
    await store.putRoute({ pattern: 'site.example.com/*', worker: 'site' });
    await store.putRoute({ pattern: 'other.example.com/*', worker: 'other' });
    await store.putRoute({ pattern: 'example.com/site/*', worker: 'site' });

    t.equal(await store.deleteWorker('site'), true);
    t.equal(await store.getWorker('site'), null);
    t.equal(await store.getVersion('site', version.id), null);
    t.strictSame(await store.listRoutes(), [{ pattern: 'other.example.com/*', worker: 'other' }]);
    t.strictSame((await store.listWorkers()).map((worker) => worker.name), ['other']);
    t.equal(await store.deleteWorker('site'), false);

    // The name can be used again from scratch.
    const fresh = await deploy(store, 'site', 'three');
    t.strictSame((await store.getWorker('site'))?.versions, [fresh.id]);
  });

  t.test('routes: canonical patterns, replace by pattern, delete by any spelling', async (t) => {
    const { store } = await factory(t);
    await deploy(store, 'a', 'a');
    await deploy(store, 'b', 'b');
    t.strictSame(await store.putRoute({ pattern: 'Example.COM', worker: 'a' }), { pattern: 'example.com/*', worker: 'a' });
    await store.putRoute({ pattern: '*.example.com/*', worker: 'a' });
    await store.putRoute({ pattern: 'example.com/api/*', worker: 'b' });
    t.strictSame(await store.listRoutes(), [
      { pattern: 'example.com/*', worker: 'a' },
      { pattern: '*.example.com/*', worker: 'a' },
      { pattern: 'example.com/api/*', worker: 'b' },
    ]);

    await store.putRoute({ pattern: 'EXAMPLE.com/*', worker: 'b' });
    t.strictSame(
      await store.listRoutes(),
      [
        { pattern: 'example.com/*', worker: 'b' },
        { pattern: '*.example.com/*', worker: 'a' },
        { pattern: 'example.com/api/*', worker: 'b' },
      ],
      'replaced in place',
    );
    await t.rejects(store.putRoutes('a', ['example.com/*']), { code: 'ISO_ERR_ROUTE_INVALID', message: /already belongs to worker b/ });
    t.strictSame(await store.putRoutes('b', ['example.com/api/*']), ['example.com/api/*'], 'its own: fine');
    t.equal((await store.listRoutes()).find((route) => route.pattern === 'example.com/*')?.worker, 'b', 'not moved');

    t.equal(await store.deleteRoute('*.EXAMPLE.com'), true);
    t.equal(await store.deleteRoute('*.example.com/*'), false);
    t.strictSame((await store.listRoutes()).map((route) => route.pattern), ['example.com/*', 'example.com/api/*']);

    const listed = await store.listRoutes();
    listed.pop();
    t.equal((await store.listRoutes()).length, 2, 'listRoutes returns a copy');
  });

  t.test('routes are checked before anything is written', async (t) => {
    const { store } = await factory(t);
    await deploy(store, 'a', 'a');
    const put = (pattern: string, worker: string) => store.putRoute({ pattern, worker });
    await t.rejects(put('https://example.com/*', 'a'), { code: 'ISO_ERR_ROUTE_INVALID' });
    await t.rejects(put('example.com/*', 'Bad Name'), { code: 'ISO_ERR_DEPLOY_INVALID_NAME' });
    await t.rejects(put('example.com/*', 'ghost'), { code: 'ISO_ERR_WORKER_NOT_FOUND', status: 404 });
    await t.rejects(store.deleteRoute('example.com:8080/*'), { code: 'ISO_ERR_ROUTE_INVALID' });
    t.strictSame(await store.listRoutes(), []);
  });

  t.test('worker names are validated everywhere', async (t) => {
    const { store } = await factory(t);
    const bad = ['', '../etc', 'a/b', 'UPPER', '-dash', 'dash-', 'a_b', 'a.b', 'x'.repeat(64), 'é'];
    const id = '0123456789abcdef0123';
    for (const name of bad) {
      const code = { code: 'ISO_ERR_DEPLOY_INVALID_NAME', status: 400 };
      await t.rejects(store.putVersion(name, makeSpec('x')), code, `putVersion ${JSON.stringify(name)}`);
      await t.rejects(store.getVersion(name, id), code);
      await t.rejects(store.activate(name, id), code);
      await t.rejects(store.getWorker(name), code);
      await t.rejects(store.deleteWorker(name), code);
    }
    for (const name of ['a', '0', 'my-worker-2', 'x'.repeat(63)]) {
      t.equal(await store.getWorker(name), null, `${name} is a valid name`);
    }
  });

  t.test('change events: after each durable change, none for putVersion', async (t) => {
    const fixture = await factory(t);
    const { store } = fixture;
    const changes: StoreChange[] = [];
    const observed: Promise<unknown>[] = [];
    const unsubscribe = store.onChange((change) => {
      changes.push(change);
      // What a listener reads back already includes the change, even through another instance.
      if (change.kind === 'worker') observed.push(fixture.reopen().then((other) => other.getWorker(change.name)));
      else observed.push(fixture.reopen().then((other) => other.listRoutes()));
    });

    const version = await store.putVersion('site', makeSpec('one'));
    t.strictSame(changes, []);
    await store.activate('site', version.id);
    await store.putRoute({ pattern: 'example.com/*', worker: 'site' });
    await store.putRoute({ pattern: 'example.com/*', worker: 'site' }); // unchanged: no event
    await store.deleteRoute('example.com/*');
    await store.deleteRoute('example.com/*'); // absent: no event
    await store.putRoute({ pattern: 'example.com/*', worker: 'site' });
    await store.deleteWorker('site');
    t.strictSame(changes, [
      { kind: 'worker', name: 'site' },
      { kind: 'routes' },
      { kind: 'routes' },
      { kind: 'routes' },
      { kind: 'routes' }, // deleteWorker removed the route
      { kind: 'worker', name: 'site' },
    ]);
    const seen = await Promise.all(observed);
    t.match(seen[0], { name: 'site', activeVersion: version.id });
    t.strictSame(seen[1], [{ pattern: 'example.com/*', worker: 'site' }]);
    t.strictSame(seen[2], []);

    unsubscribe();
    await deploy(store, 'site', 'two');
    t.equal(changes.length, 6, 'no events after unsubscribe');
  });

  t.test('a throwing listener does not fail the change or starve other listeners', async (t) => {
    const { store } = await factory(t);
    const seen: StoreChange[] = [];
    store.onChange(() => {
      throw new Error('listener bug');
    });
    store.onChange((change) => seen.push(change));
    // Take over uncaught errors for a moment, from tap too, to see the listener's error come out there.
    const tapHandlers = process.listeners('uncaughtException');
    process.removeAllListeners('uncaughtException');
    const uncaught = new Promise<unknown>((resolve) => process.once('uncaughtException', resolve));
    try {
      await deploy(store, 'site', 'one');
      t.match(await uncaught, { message: 'listener bug' }, 'reported, not swallowed');
    } finally {
      for (const handler of tapHandlers) process.on('uncaughtException', handler);
    }
    t.strictSame(seen, [{ kind: 'worker', name: 'site' }]);
    t.not(await store.getWorker('site'), null);
  });

  t.test('cron triggers: replaced whole, kept across deploys and restarts, refused for unknown workers', async (t) => {
    const fixture = await factory(t);
    const { store } = fixture;
    await t.rejects(store.setSchedules('ghost', ['* * * * *']), { code: 'ISO_ERR_WORKER_NOT_FOUND' });
    const first = await deploy(store, 'cron', 'one');
    t.strictSame((await store.getWorker('cron'))!.schedules, [], 'none at first');
    const changes: StoreChange[] = [];
    store.onChange((change) => changes.push(change));
    const record = await store.setSchedules('cron', ['*/5 * * * *', '0 6 * * mon']);
    t.strictSame(record.schedules, ['*/5 * * * *', '0 6 * * mon']);
    t.equal(record.activeVersion, first.id, 'the active version stays');
    t.strictSame(changes, [{ kind: 'worker', name: 'cron' }], 'a change event, after the write');
    t.strictSame(await store.getWorker('cron'), record);

    const second = await deploy(store, 'cron', 'two');
    t.strictSame((await store.getWorker('cron'))!.schedules, ['*/5 * * * *', '0 6 * * mon'], 'a deploy keeps them');
    t.equal((await store.getWorker('cron'))!.activeVersion, second.id);
    t.strictSame((await (await fixture.reopen()).getWorker('cron'))!.schedules, ['*/5 * * * *', '0 6 * * mon'], 'durable');
    t.strictSame((await store.setSchedules('cron', [])).schedules, [], 'cleared');
  });

  t.test('a new instance on the same data sees everything', async (t) => {
    const fixture = await factory(t);
    const { store } = fixture;
    const versions = [await deploy(store, 'site', 'one'), await deploy(store, 'site', 'two')];
    await deploy(store, 'api', 'three');
    await store.putRoute({ pattern: 'example.com/*', worker: 'site' });
    await store.putRoute({ pattern: 'api.example.com/*', worker: 'api' });

    const reopened = await fixture.reopen();
    t.strictSame(await reopened.listWorkers(), await store.listWorkers());
    t.strictSame(await reopened.listRoutes(), await store.listRoutes());
    for (const version of versions) t.strictSame(await reopened.getVersion('site', version.id), version);
    t.strictSame(
      (await reopened.putVersion('site', makeSpec('one'))).createdAt,
      versions[0]!.createdAt,
      'idempotent across instances',
    );
  });

  t.test('concurrent deploys to one worker do not interleave', async (t) => {
    const { store } = await factory(t);
    const ids = await Promise.all(
      Array.from({ length: 24 }, async (_, i) => (await deploy(store, 'site', `v${i}`)).id),
    );
    const record = await store.getWorker('site');
    t.equal(record?.versions.length, KEPT_VERSIONS);
    t.equal(new Set(record?.versions).size, KEPT_VERSIONS, 'no duplicates');
    t.equal(record?.activeVersion, record?.versions[0]);
    for (const id of record?.versions ?? []) t.ok(ids.includes(id) && (await store.getVersion('site', id)), `${id} readable`);
    const { removed } = await store.cleanup();
    t.strictSame(removed, [], 'activate already deleted what fell off the list');
  });

  t.test('concurrent route writes are all kept', async (t) => {
    const { store } = await factory(t);
    await deploy(store, 'site', 'one');
    const patterns = Array.from({ length: 20 }, (_, i) => `s${i}.example.com/*`);
    await Promise.all(patterns.map((pattern) => store.putRoute({ pattern, worker: 'site' })));
    t.equal((await store.listRoutes()).length, 20);
  });

  t.test('an upload stays activatable while other deploys push it off the list', async (t) => {
    const { store } = await factory(t);
    const old = await deploy(store, 'site', 'old');
    const again = await store.putVersion('site', makeSpec('old')); // a deploy has uploaded, not yet activated
    for (let i = 0; i < KEPT_VERSIONS; i++) await deploy(store, 'site', `v${i}`);
    t.notOk((await store.getWorker('site'))?.versions.includes(old.id), 'fell off the list');
    t.equal((await store.activate('site', again.id)).activeVersion, old.id, 'the deploy still completes');
  });

  t.test('cleanup removes uploads never activated, after a restart', async (t) => {
    const fixture = await factory(t);
    const { store } = fixture;
    const active = await deploy(store, 'site', 'live');
    const orphan = await store.putVersion('site', makeSpec('never activated'));
    const alone = await store.putVersion('lonely', makeSpec('never activated'));

    t.strictSame((await store.cleanup()).removed, [], 'this process may still activate its recent uploads');
    t.not(await store.getVersion('site', orphan.id), null);

    const restarted = await fixture.reopen();
    const { removed } = await restarted.cleanup();
    t.ok(removed.some((path) => path.includes(orphan.id)), 'orphan version removed');
    t.ok(removed.some((path) => path.includes(alone.id)), 'version of a never-activated worker removed');
    t.ok(!removed.some((path) => path.includes(active.id)), 'active version kept');
    t.equal(await restarted.getVersion('site', orphan.id), null);
    t.equal(await restarted.getVersion('lonely', alone.id), null);
    t.strictSame(await restarted.getVersion('site', active.id), active);
    t.strictSame((await restarted.cleanup()).removed, [], 'nothing left to remove');
    t.strictSame((await restarted.listWorkers()).map((worker) => worker.name), ['site']);
  });

  t.test('a deployer killed with SIGKILL mid-loop leaves every worker whole', async (t) => {
    const fixture = await factory(t);
    if (fixture.spawnDeployer === undefined) {
      t.plan(0, 'this backend cannot run a deployer in a child process');
      return;
    }
    const acked = new Map<string, number>();
    const ackedRoutes = new Map<string, string>();
    for (let round = 0; round < 6; round++) {
      const child = fixture.spawnDeployer(round * 1_000_000);
      const { signal, stderr } = await killMidLoop(child, 8 + Math.floor(Math.random() * 16), acked, ackedRoutes);
      t.equal(signal, 'SIGKILL', `round ${round}: killed, not crashed${stderr ? `: ${stderr}` : ''}`);
      await checkWhole(t, await fixture.reopen(), acked, ackedRoutes);
    }
    const store = await fixture.reopen();
    await store.cleanup();
    await checkWhole(t, store, acked, ackedRoutes);
  });
}

/** Lets the child acknowledge `deploys` deploys, kills it a few ms later, records every acknowledged step. */
function killMidLoop(
  child: ChildProcess,
  deploys: number,
  acked: Map<string, number>,
  ackedRoutes: Map<string, string>,
): Promise<{ signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    let pending = '';
    let stderr = '';
    let count = 0;
    let killTimer: NodeJS.Timeout | undefined;
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = (pending + chunk).split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        const [kind, a, b] = line.split(' ');
        if (kind === 'deployed' && a && b) {
          acked.set(a, Number(b));
          count++;
        } else if (kind === 'routed' && a && b) {
          ackedRoutes.set(a, b);
        }
      }
      if (count >= deploys && killTimer === undefined) {
        killTimer = setTimeout(() => child.kill('SIGKILL'), Math.random() * 15);
      }
    });
    child.on('error', reject);
    child.on('close', (_code, signal) => {
      clearTimeout(killTimer);
      resolve({ signal, stderr: stderr.trim() });
    });
  });
}

async function checkWhole(
  t: Test,
  store: Store,
  acked: ReadonlyMap<string, number>,
  ackedRoutes: ReadonlyMap<string, string>,
): Promise<void> {
  const workers = await store.listWorkers();
  for (const name of acked.keys()) t.ok(workers.some((worker) => worker.name === name), `${name} exists`);
  for (const worker of workers) {
    t.ok((LOOP_WORKERS as readonly string[]).includes(worker.name), `${worker.name} is a loop worker`);
    t.ok(worker.versions.length <= KEPT_VERSIONS && new Set(worker.versions).size === worker.versions.length);
    const active = await store.getVersion(worker.name, worker.activeVersion);
    if (active === null) {
      t.fail(`${worker.name}: active version ${worker.activeVersion} is missing`);
      continue;
    }
    t.equal(versionId(worker.name, specOf(active)), active.id, `${worker.name}: active version is whole`);
    const n = Number(labelOf(active)?.split(' ')[1]);
    t.ok(n >= (acked.get(worker.name) ?? 0), `${worker.name}: active ${n} is at least the last acknowledged`);
    for (const id of worker.versions) {
      t.not(await store.getVersion(worker.name, id), null, `${worker.name}: kept version ${id} readable`);
    }
  }
  const routes = await store.listRoutes();
  for (const route of routes) t.ok(workers.some((worker) => worker.name === route.worker), `${route.pattern} has a worker`);
  for (const [pattern, worker] of ackedRoutes) {
    t.ok(routes.some((route) => route.pattern === pattern && route.worker === worker), `acknowledged ${pattern} kept`);
  }
}
