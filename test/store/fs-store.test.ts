import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';
import { openFsStore } from '../../src/store/fs-store.ts';
import { storeContract, type StoreFixture } from './contract.ts';
import { tempDataDir } from './temp-dir.ts';

const deployLoopChild = fileURLToPath(new URL('./fs-deploy-loop-child.ts', import.meta.url));

async function fsFixture(t: Test): Promise<StoreFixture> {
  const dir = await tempDataDir(t);
  return {
    store: await openFsStore(dir),
    reopen: () => openFsStore(dir),
    spawnDeployer: (start) =>
      spawn(process.execPath, ['--no-node-snapshot', deployLoopChild, dir, String(start)], {
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
  };
}

storeContract(t, fsFixture);
