/**
 * Run with the serving processes' flags and --trace-gc-nvp (test/serving/young-generation.test.ts): clears the
 * flag as a serving process does (unless told not to), then makes a tenant-sized isolate whose young objects
 * survive scavenges, so its new space grows to whatever bound it has. The trace lines say how far.
 */
import ivm from '../../src/isolates/isolated-vm.ts';
import { unsetYoungGenerationFlag } from '../../src/serving/young-generation.ts';

if (process.argv[2] !== 'keep-flag') unsetYoungGenerationFlag();
const isolate = new ivm.Isolate({ memoryLimit: 128 });
const context = isolate.createContextSync();
context.evalSync('const ring = new Array(20000); let k = 0; for (let i = 0; i < 3e6; i++) ring[k++ % 20000] = { i, list: [i] };');
isolate.dispose();
