/**
 * Run by test/isolates/code-cache.test.ts as a process of its own: builds a two-module version with the
 * code cache kept in the directory given as argv[2], serves one request, prints how many modules came from
 * the cache, and waits for the cache files to be written.
 */
import { keepCodeCacheFiles } from '../../src/isolates/code-cache.ts';
import { CodeCacheFiles } from '../../src/isolates/code-cache-files.ts';
import { buildRuntimeBundle } from '../../src/isolates/runtime-bundle.ts';
import { TenantIsolate } from '../../src/isolates/tenant-isolate.ts';
import { DEFAULT_LIMITS } from '../../src/types.ts';

keepCodeCacheFiles(new CodeCacheFiles(process.argv[2]!));
const bundle = await buildRuntimeBundle();
let body = '';
const tenant = TenantIsolate.create(
  {
    id: 'crossprocess0000000a',
    worker: 'cross',
    createdAt: new Date(0).toISOString(),
    syntax: 'module',
    main: 'main.js',
    modules: [
      { name: 'main.js', type: 'esm', content: `import { twice } from './twice.js'; export default { fetch() { return new Response(String(twice(21))) } }` },
      { name: 'twice.js', type: 'esm', content: `export function twice(n) { return n * 2 }` },
    ],
    bindings: [],
    compatibilityDate: null,
    limits: { ...DEFAULT_LIMITS },
  },
  bundle,
  (op, args) => {
    if (op === 'respond') body = typeof args[3] === 'string' ? args[3] : new TextDecoder().decode(args[3] as ArrayBuffer);
    return undefined;
  },
);
tenant.enter(['request', 1, 'GET', 'http://cross.test/', 'host\ncross.test', null], 1000);
tenant.recacheCode();
await new Promise((resolve) => setTimeout(resolve, 300));
process.stdout.write(JSON.stringify({ fromCache: tenant.modulesFromCache, body }));
tenant.dispose();
