/**
 * The deploy path: upload → spec → version built and checked in the executor that will serve it →
 * stored (version first, then the worker's pointer, then its routes, in the order deploys arrived:
 * deploy-order.ts) → live through the store's change event.
 * A bad upload fails before anything is written.
 */
import { IsolaneError } from '../errors.ts';
import { parseRoutePattern, subdomainOwner, type RoutePattern } from '../routing/index.ts';
import type { Store } from '../store/store.ts';
import { versionId } from '../store/version-id.ts';
import type { Version, VersionSpec, WorkerRecord } from '../types.ts';
import type { DeployOrder } from './deploy-order.ts';
import { parseUpload } from '../validation/upload.ts';

/** Builds a version where it will run: compile, link, start, find the fetch handler. */
export interface Builder {
  validate(version: Version): Promise<'module' | 'service-worker'>;
}

export interface DeployResult {
  created: boolean;
  worker: WorkerRecord;
  version: Version;
  syntax: 'module' | 'service-worker';
  routes: string[];
}

/** What every deploy goes through: the store, the builder, the order of changes, the workers' domain. */
export interface DeployContext {
  store: Store;
  builder: Builder;
  order: DeployOrder;
  workersDomain: string | null;
}

/** `ticket`: the deploy's place among the worker's changes, taken as it arrived (deploy-order.ts). */
export async function deploy({ store, builder, order, workersDomain }: DeployContext, ticket: number, name: string, contentType: string | undefined, body: Uint8Array, maxBytes: number): Promise<DeployResult> {
  const { spec, routes } = await parseUpload(contentType, body, maxBytes);
  const patterns = (routes ?? []).map((text) => {
    const route = parseRoutePattern(text);
    assertNotOthersSubdomain(route, workersDomain, name);
    return route.pattern;
  });
  const existing = await store.getWorker(name);
  if (patterns.length > 0) {
    const taken = (await store.listRoutes()).find((r) => patterns.includes(r.pattern) && r.worker !== name);
    if (taken) throw new IsolaneError('ISO_ERR_ROUTE_INVALID', `route ${taken.pattern} already belongs to worker ${taken.worker}`);
  }

  const candidate: Version = { ...spec, id: versionId(name, spec), worker: name, createdAt: new Date().toISOString() };
  const syntax = await builder.validate(candidate);

  const { version, worker } = await order.activate(name, ticket, 'deploy', async () => {
    const stored = await storeAndActivate(store, name, spec);
    // Routes need the worker to exist; until they are written it answers at its default subdomain only.
    // The check above is a courtesy (before any build); this one is the rule: a deploy that raced
    // another for a route gets a 400 naming the owner, its version live without its new routes (all of
    // them or none: they are written together).
    try {
      await store.putRoutes(name, patterns);
    } catch (error) {
      if (error instanceof IsolaneError && error.code === 'ISO_ERR_ROUTE_INVALID') {
        throw new IsolaneError('ISO_ERR_ROUTE_INVALID', `${error.message} (taken while this deploy ran: version ${stored.version.id} is live without its new routes)`);
      }
      throw error;
    }
    return stored;
  });
  const allRoutes = (await store.listRoutes()).filter((r) => r.worker === name).map((r) => r.pattern);
  return { created: existing === null, worker, version, syntax, routes: allRoutes };
}

/** Refuses a route on another worker's own subdomain (routing/route-pattern.ts subdomainOwner). */
export function assertNotOthersSubdomain(route: RoutePattern, workersDomain: string | null, worker: string): void {
  const owner = subdomainOwner(route, workersDomain);
  if (owner !== null && owner !== worker) {
    throw new IsolaneError('ISO_ERR_ROUTE_INVALID', `route ${route.pattern} is on ${owner}.${workersDomain}, worker ${owner}'s own subdomain: only that worker may have routes there`);
  }
}

/**
 * Stores the version and makes it active. A DELETE of the worker that lands between the two writes takes
 * the version with it: the deploy then came after the delete, so it stores the version again rather than
 * answering 404 about a version it has just uploaded. Once is enough: until a deploy creates the worker
 * again, there is nothing for another delete to remove.
 */
async function storeAndActivate(store: Store, name: string, spec: VersionSpec): Promise<{ version: Version; worker: WorkerRecord }> {
  const version = await store.putVersion(name, spec);
  try {
    return { version, worker: await store.activate(name, version.id) };
  } catch (error) {
    if (!(error instanceof IsolaneError && error.code === 'ISO_ERR_VERSION_NOT_FOUND')) throw error;
    const again = await store.putVersion(name, spec);
    return { version: again, worker: await store.activate(name, again.id) };
  }
}
