/**
 * The platform's own work inside a tenant's slice is not charged to the tenant (src/limits/watchdog.ts
 * `asPlatformWork`), and not lost either: GET /v1/system reports it per serving process.
 */
import t from 'tap';
import { admin, deployScript, send, startServer } from '../helpers/server.ts';

interface SystemInfo {
  servingProcesses: { platformCpuMs: number }[];
}

const platformCpuMs = async (server: Awaited<ReturnType<typeof startServer>>) =>
  (await admin(server, 'GET', '/v1/system')).json<SystemInfo>().servingProcesses.map((p) => p.platformCpuMs);

t.test("GET /v1/system counts the CPU of a runtime chunk loaded in a tenant's slice", async (t) => {
  const server = await startServer(t, { args: ['--executors', '1'] });
  // Looking URLPattern up loads its runtime chunk, inside the request's slice.
  t.equal((await deployScript(server, 'pattern', `export default { fetch() { return new Response(typeof URLPattern) } }`)).status, 201);
  t.same(await platformCpuMs(server), [0], 'none before');
  t.equal((await send(server, 'pattern.localhost')).text, 'function');
  let reported = [0];
  // Stats come each second.
  for (let i = 0; i < 40 && reported[0] === 0; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    reported = await platformCpuMs(server);
  }
  t.ok(reported[0]! > 0, `the chunk's load: ${reported[0]} ms`);
});
