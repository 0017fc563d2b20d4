/**
 * What the serving processes' environment adds to the primary's:
 * - TZ=UTC, whatever the host's zone: Workers run in UTC. An isolate takes its time zone from its
 *   process (ICU reads TZ, else /etc/localtime), so on a host with another zone a tenant's local Date
 *   methods, date-fns and Intl answered in the host's zone, and told it the zone's name. D1's processes,
 *   started by the serving processes, inherit it.
 * - MALLOC_ARENA_MAX (malloc-arenas.ts).
 */
import { mallocArenas } from './malloc-arenas.ts';

export function servingEnv(primaryEnv: NodeJS.ProcessEnv): Record<string, string> {
  return { ...mallocArenas(primaryEnv), TZ: 'UTC' };
}
