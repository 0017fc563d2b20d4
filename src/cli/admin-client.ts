/** Where the CLI finds the admin API and its token. */
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';

export interface AdminClient {
  url: string;
  token: string;
}

export async function adminClient(env: NodeJS.ProcessEnv = process.env): Promise<AdminClient> {
  const url = env.ISOLANE_ADMIN_URL ?? `http://127.0.0.1:${env.ISOLANE_ADMIN_PORT ?? 8081}`;
  const token = env.ISOLANE_ADMIN_TOKEN ?? (await readFile(join(resolve(env.ISOLANE_DATA_DIR ?? 'data'), 'admin-token'), 'utf8').catch(() => '')).trim();
  if (!token) throw new Error('no admin token: set ISOLANE_ADMIN_TOKEN or run from the directory whose data/admin-token the server wrote');
  return { url, token };
}
