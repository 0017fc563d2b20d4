/** Child process of the fs crash test: `node fs-deploy-loop-child.ts <dataDir> <start>`. */
import { openFsStore } from '../../src/store/fs-store.ts';
import { deployLoop } from './deploy-loop.ts';

const [dataDir, start] = process.argv.slice(2);
if (!dataDir || !start) throw new Error('usage: fs-deploy-loop-child.ts <dataDir> <start>');
await deployLoop(await openFsStore(dataDir), Number(start));
