// `npm ci` builds native/ with node-gyp (binding.gyp). npm runs this install script with its own Node
// (the system's, which may be older), while the server runs on the node@24 package: the watchdog addon
// uses V8's C++ API, so it is built against the V8 headers of that Node, which its platform package
// (node-<platform>-<arch>, installed by node@24) ships in include/node. Without them, the headers of the
// Node running this script (a distribution's Node keeps them under its prefix), and the addon leaves out
// what needs the matching V8 (namedKeys, reduceMemory).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const require = createRequire(path.join(root, 'package.json'));
const platformPackage = `node-${process.platform}-${process.arch}`;

function serverNodeHeaders() {
  for (const base of [path.join(root, 'node_modules', 'node'), root]) {
    try {
      const dir = path.dirname(require.resolve(`${platformPackage}/package.json`, { paths: [base] }));
      if (existsSync(path.join(dir, 'include', 'node', 'v8-version.h'))) return dir;
    } catch {}
  }
  return undefined;
}

function ownHeaders() {
  const prefix = path.resolve(path.dirname(process.execPath), '..');
  return existsSync(path.join(prefix, 'include', 'node', 'v8-version.h')) ? prefix : undefined;
}

const serverHeaders = serverNodeHeaders();
const nodedir = serverHeaders ?? ownHeaders();
console.log(`native: building against the headers in ${nodedir ?? "node-gyp's download"}${serverHeaders ? '' : ' (not the server Node\'s: namedKeys and reduceMemory are left out)'}`);
const gyp = require.resolve('node-gyp/bin/node-gyp.js');
// npm hands its own `nodedir` setting (this machine's npmrc says /usr) to node-gyp as npm_config_nodedir,
// which wins over the command line: set both.
const env = nodedir ? { ...process.env, npm_config_nodedir: nodedir } : process.env;
execFileSync(process.execPath, [gyp, 'rebuild', ...(nodedir ? [`--nodedir=${nodedir}`] : [])], { cwd: root, stdio: 'inherit', env });
