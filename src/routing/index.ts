export { normalizeHost } from './normalize-host.ts';
export { parseRoutePattern, subdomainOwner } from './route-pattern.ts';
export type { HostMatch, RoutePattern } from './route-pattern.ts';
export { RouteTable } from './route-table.ts';
