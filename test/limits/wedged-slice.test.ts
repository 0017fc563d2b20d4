/**
 * The watchdog ends the process when a slice told to terminate keeps running (native/isolate-watchdog.cc):
 * after 6 s of its thread's CPU, not of wall time. A thread starved of a core (the nice-10 offload thread
 * on a busy machine) finishing a long host call, a 4096-bit RSA key generation, took over 6 s of wall time
 * for ~1 s of CPU, and its serving process was ended with every tenant's requests in it.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import t from 'tap';

const CHILD = join(import.meta.dirname, '..', 'helpers', 'starved-host-call-child.ts');

t.test('a stopped slice whose host call waits 7 s without using CPU is not taken for a wedged one', async (t) => {
  const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = execFile(process.execPath, ['--no-node-snapshot', CHILD, '7000'], { timeout: 30_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stdout, stderr }),
    );
    child.stdin?.end();
  });
  t.equal(code, 0, `the process was not ended (stderr: ${stderr.trim().slice(0, 300)})`);
  t.equal(stdout.trim(), 'stopped at its CPU limit', 'and the slice ended at its CPU limit once the call returned');
});
