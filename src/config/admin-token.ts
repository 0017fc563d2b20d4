/** The admin token: configured, or generated once and kept (mode 0600) in the data directory. */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Where a generated token is kept. */
export function adminTokenFile(dataDir: string): string {
  return join(dataDir, 'admin-token');
}

export async function adminToken(configured: string | null, dataDir: string): Promise<{ token: string; generated: boolean }> {
  if (configured) return { token: configured, generated: false };
  const file = adminTokenFile(dataDir);
  try {
    const stored = (await readFile(file, 'utf8')).trim();
    if (stored) return { token: stored, generated: false };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const token = randomBytes(24).toString('base64url');
  await mkdir(dataDir, { recursive: true });
  await writeFile(file, token + '\n', { mode: 0o600, flag: 'wx' }).catch(async (err: NodeJS.ErrnoException) => {
    // Another process started at the same moment and wrote first: use theirs.
    if (err.code !== 'EEXIST') throw err;
  });
  return { token: (await readFile(file, 'utf8')).trim(), generated: true };
}
