/**
 * Workers run in UTC: a worker's local Date methods and Intl answer in UTC whatever the host's zone
 * (src/serving/serving-env.ts). Before, a server started with TZ set gave its tenants that zone.
 */
import t from 'tap';
import { deployScript, send, startServer } from '../helpers/server.ts';

t.test("a worker's time zone is UTC on a host in another", async (t) => {
  const server = await startServer(t, { env: { TZ: 'America/New_York' } });
  const deployed = await deployScript(server, 'clock', `export default { fetch() {
    const noon = new Date(Date.UTC(2024, 0, 15, 12));
    return Response.json({ hours: noon.getHours(), offset: noon.getTimezoneOffset(), zone: Intl.DateTimeFormat().resolvedOptions().timeZone, text: noon.toString() });
  } }`);
  t.equal(deployed.status, 201, deployed.text);
  t.same((await send(server, 'clock.localhost')).json(), { hours: 12, offset: 0, zone: 'UTC', text: 'Mon Jan 15 2024 12:00:00 GMT+0000 (Coordinated Universal Time)' });
});
