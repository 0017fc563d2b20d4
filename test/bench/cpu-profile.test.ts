/**
 * `npm run bench:profile`'s folding of V8 CPU profiles (bench/lib/cpu-profile.ts) and its flame graph
 * (bench/lib/flame-graph.ts): a hand-made profile with known samples checks the arithmetic (time
 * window, self and inclusive counts, recursion counted once, idle left out); a real `node --cpu-prof`
 * run checks that the function that burned the CPU comes out on top.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { addProfile, emptyTree, samplesByKind, topFunctions } from '../../bench/lib/cpu-profile.ts';
import { flameGraphSvg } from '../../bench/lib/flame-graph.ts';
import { ROOT } from '../../bench/lib/isolane-server.ts';

const frame = (id: number, functionName: string, url: string, children: number[] = []) => ({ id, callFrame: { functionName, url, lineNumber: 9 }, children });

// (root) → main (ours) → walk (ours, recursive) → walk → JSONStringify (node:), and (root) → (idle), (garbage collector).
const ours = `file://${ROOT}/src/example.ts`;
const PROFILE = {
  nodes: [
    frame(1, '(root)', '', [2, 6, 7]),
    frame(2, 'main', ours, [3]),
    frame(3, 'walk', ours, [4]),
    frame(4, 'walk', ours, [5]),
    frame(5, 'stringify <b>', 'node:internal/json'),
    frame(6, '(idle)', ''),
    frame(7, '(garbage collector)', ''),
  ],
  startTime: 1000,
  // Ten samples 100 µs apart: times 1100 … 2000.
  samples: [2, 3, 4, 5, 5, 6, 6, 7, 3, 5],
  timeDeltas: Array(10).fill(100),
};

t.test('folds samples in a window into self and inclusive counts', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'isolane-profile-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'a.cpuprofile');
  writeFileSync(file, JSON.stringify(PROFILE));

  const all = emptyTree();
  t.equal(addProfile(all, file), 8, 'every sample but the two idle ones');
  t.equal(all.total, 8);
  const main = all.children.get('main src/example.ts:10')!;
  t.ok(main, 'frames are named by function and checkout-relative place');
  t.match(main, { kind: 'isolane', self: 1, total: 7 });
  const walk = main.children.get('walk src/example.ts:10')!;
  t.match(walk, { self: 2, total: 6 });
  t.match(walk.children.get('walk src/example.ts:10'), { self: 1, total: 4 });
  t.match(samplesByKind(all), { isolane: 4, node: 3, gc: 1, native: 0, dependency: 0 });

  const inclusive = Object.fromEntries(topFunctions(all, 'total', 10).map((f) => [f.name, f.samples]));
  t.equal(inclusive.walk, 6, 'a recursive function is counted once per sample');
  t.equal(inclusive.main, 7);
  const self = topFunctions(all, 'self', 2);
  t.same(self.map((f) => [f.name, f.samples]).sort(), [['stringify <b>', 3], ['walk', 3]], 'self samples of a function add up over its frames');

  // Times 1300 … 1700: samples 4, 5, 5, 6 (idle), 6 (idle).
  const windowed = emptyTree();
  t.equal(addProfile(windowed, file, 1300, 1700), 3);
  t.equal(windowed.children.get('main src/example.ts:10')!.total, 3);

  // Merging a second process's profile adds along the same paths.
  addProfile(windowed, file, 1300, 1700);
  t.equal(windowed.total, 6);

  const svg = flameGraphSvg(all, 'test & <profile>');
  t.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  t.match(svg, 'test &#38; &#60;profile&#62;', 'the title is escaped');
  t.match(svg, 'stringify &#60;b&#62; (node:internal/json:10)', 'function names are escaped');
  t.equal(svg.match(/<rect /g)!.length, 6 + 5, 'a box for (all) and each of the 5 frames, and 5 legend swatches');
  t.notMatch(svg, /<script/i);
});

t.test('a real profile: the function that burned the CPU is on top', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'isolane-profile-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  // The script prints its clock (V8's profile clock, µs) around the burn: only those samples count, not
  // the process's start-up, which takes longer on a busy machine.
  const script = `const now = () => Number(process.hrtime.bigint() / 1000n);
    function burnTheCpu() { let x = 0; const end = Date.now() + 300; while (Date.now() < end) for (let i = 0; i < 1e4; i++) x += Math.sqrt(i); return x; }
    const from = now(); burnTheCpu(); console.log(from, now());`;
  const run = spawnSync(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${dir}`, '--cpu-prof-interval=500', '-e', script], { encoding: 'utf8' });
  t.equal(run.status, 0, run.stderr);
  const [fromUs, toUs] = run.stdout.trim().split(' ').map(Number);
  const [file] = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  const tree = emptyTree();
  t.ok(addProfile(tree, join(dir, file!), fromUs, toUs) > 100, 'hundreds of samples in the 300 ms window');
  const burn = topFunctions(tree, 'total', 50).find((f) => f.name === 'burnTheCpu');
  t.ok(burn, 'burnTheCpu is among the functions');
  t.ok(burn!.samples / tree.total > 0.9, `burnTheCpu holds the window's samples (${burn!.samples} of ${tree.total})`);
  t.equal(topFunctions(tree, 'self', 1)[0]!.name, 'burnTheCpu', 'and is the top function by self time');
});
