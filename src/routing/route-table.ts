/**
 * Host + path → route, the most specific pattern winning. Built once from the whole route list and never
 * mutated: a change builds a new table and swaps it in.
 *
 * Order of preference:
 * 1. Host first: an exact host beats every wildcard; among wildcards the longer fixed part wins
 *    (`*.a.example.com` > `*a.example.com` > `*.example.com` > `*example.com` > `*`). A more specific host
 *    wins even over a longer path (`a.example.com/*` beats `*.example.com/a` for `a.example.com/a`, as on
 *    Cloudflare); when none of a host's paths match, the next less specific host is tried.
 * 2. Then the longer fixed path prefix; at equal prefixes an exact path beats a wildcard one.
 *    (Cloudflare has a known issue where `/images*` beats `/images/*` for `/images/x`; the longest prefix
 *    wins here.)
 * 3. Ties (the same canonical pattern twice) go to the first in the input list.
 *
 * `match` does a few Map lookups, one per label of the host, then scans that host's few paths: no regex.
 */
import type { Route } from '../types.ts';
import { normalizeHost } from './normalize-host.ts';
import { parseRoutePattern } from './route-pattern.ts';

interface Entry {
  route: Route;
  pathPrefix: string;
  pathWildcard: boolean;
  index: number;
}

type Group = readonly Entry[];

export class RouteTable {
  /** Number of routes in the table. */
  readonly size: number;
  readonly #exact: ReadonlyMap<string, Group>;
  /** `*.example.com`, keyed by `example.com`. */
  readonly #subdomains: ReadonlyMap<string, Group>;
  /** `*example.com`, keyed by `example.com`. */
  readonly #selfAndSubdomains: ReadonlyMap<string, Group>;
  /** `*` */
  readonly #catchAll: Group | null;
  readonly #hasWildcards: boolean;

  /** Throws `ISO_ERR_ROUTE_INVALID` if a pattern is invalid. */
  constructor(routes: readonly Route[]) {
    const exact = new Map<string, Entry[]>();
    const subdomains = new Map<string, Entry[]>();
    const selfAndSubdomains = new Map<string, Entry[]>();
    const catchAll: Entry[] = [];
    routes.forEach((route, index) => {
      const { host, hostMatch, pathPrefix, pathWildcard } = parseRoutePattern(route.pattern);
      const entry: Entry = { route, pathPrefix, pathWildcard, index };
      if (hostMatch === 'self-and-subdomains' && host === '') catchAll.push(entry);
      else if (hostMatch === 'self-and-subdomains') addTo(selfAndSubdomains, host, entry);
      else addTo(hostMatch === 'exact' ? exact : subdomains, host, entry);
    });
    this.#exact = sortGroups(exact);
    this.#subdomains = sortGroups(subdomains);
    this.#selfAndSubdomains = sortGroups(selfAndSubdomains);
    this.#catchAll = catchAll.length > 0 ? sortGroup(catchAll) : null;
    this.#hasWildcards = subdomains.size > 0 || selfAndSubdomains.size > 0 || this.#catchAll !== null;
    this.size = routes.length;
  }

  /**
   * `host` is the Host header as received (port, case and a trailing dot are ignored); `path` is the URL's
   * pathname (percent-encoded, no query string).
   */
  match(host: string, path: string): Route | null {
    const key = normalizeHost(host);
    if (key === null) return null;
    const exact = matchPath(this.#exact.get(key), path);
    if (exact !== null || !this.#hasWildcards) return exact;

    // Candidates from the longest fixed part down: `*host`, then per dot `*.rest` and `*rest`.
    let found = matchPath(this.#selfAndSubdomains.get(key), path);
    for (let dot = key.indexOf('.'); found === null && dot !== -1; dot = key.indexOf('.', dot + 1)) {
      const rest = key.slice(dot + 1);
      found = matchPath(this.#subdomains.get(rest), path) ?? matchPath(this.#selfAndSubdomains.get(rest), path);
    }
    return found ?? matchPath(this.#catchAll ?? undefined, path);
  }
}

function addTo(map: Map<string, Entry[]>, host: string, entry: Entry): void {
  const group = map.get(host);
  if (group === undefined) map.set(host, [entry]);
  else group.push(entry);
}

function sortGroups(map: Map<string, Entry[]>): ReadonlyMap<string, Group> {
  for (const group of map.values()) sortGroup(group);
  return map;
}

function sortGroup(group: Entry[]): Group {
  return group.sort(
    (a, b) =>
      b.pathPrefix.length - a.pathPrefix.length ||
      Number(a.pathWildcard) - Number(b.pathWildcard) ||
      a.index - b.index,
  );
}

function matchPath(group: Group | undefined, path: string): Route | null {
  if (group === undefined) return null;
  for (const entry of group) {
    if (entry.pathWildcard ? path.startsWith(entry.pathPrefix) : path === entry.pathPrefix) return entry.route;
  }
  return null;
}
