/**
 * Where a warm request's CPU goes: runs Isolane under `node --cpu-prof` (its serving processes inherit
 * the flag), sends closed-loop load to one worker, stops the server so every process writes its
 * profile, and folds the samples taken during the load into flame graphs and a table.
 *
 *   npm run bench:profile                                  # hello world, 10 s
 *   npm run bench:profile -- --worker hono --seconds 20    # the Hono JSON route
 *   npm run bench:profile -- --worker hono-post             # the Hono JSON POST
 *   npm run bench:profile -- --executors 1 --interval-us 100
 *
 * Writes bench/results/profile-<timestamp>/: serving.svg and primary.svg (flame graphs to open in a
 * browser), summary.md (also printed), and the raw .cpuprofile files (they open in Chrome DevTools'
 * Performance panel). Tenant code runs in isolates of their own that this profiler does not sample: their
 * time shows as the self time of the host function that entered the isolate (docs/BENCHMARKS.md, "Profiling").
 * Profiling slows the server; the throughput printed is the profiled run's, not a benchmark figure.
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { bundleWorker } from './lib/bundle.ts';
import { addProfile, emptyTree, KIND_LABELS, samplesByKind, topFunctions, type CallNode, type CodeKind } from './lib/cpu-profile.ts';
import { flameGraphSvg } from './lib/flame-graph.ts';
import { startIsolane } from './lib/isolane-server.ts';
import { closedLoop } from './lib/load.ts';
import { machineFacts, type MachineFacts } from './lib/machine.ts';
import { machineLine, RESULTS_DIR } from './lib/report.ts';

const WORKERS: Record<string, { file: string; path: string; method?: string; body?: string }> = {
  hello: { file: 'hello.js', path: '/' },
  hono: { file: 'hono-json.js', path: '/api/users/42' },
  // The throughput scenario's POST workload: a 40-byte JSON body read whole before the worker runs.
  'hono-post': { file: 'hono-json.js', path: '/api/users', method: 'POST', body: '{"name":"Ada Lovelace","email":"ada@ex.org"}' },
};

const { values } = parseArgs({
  options: {
    worker: { type: 'string', default: 'hello' },
    seconds: { type: 'string', default: '10' },
    connections: { type: 'string', default: '32' },
    'interval-us': { type: 'string', default: '250' },
    executors: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  console.log('npm run bench:profile -- [--worker hello|hono|hono-post] [--seconds 10] [--connections 32] [--interval-us 250] [--executors N]');
  process.exit(0);
}
const workload = WORKERS[values.worker];
if (!workload) throw new Error(`--worker is one of ${Object.keys(WORKERS).join(', ')}, not ${values.worker}`);
const seconds = Number(values.seconds);
const connections = Number(values.connections);
const intervalUs = Number(values['interval-us']);
for (const [flag, n] of [['seconds', seconds], ['connections', connections], ['interval-us', intervalUs]] as const) {
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${flag} must be a positive number`);
}

const machine = machineFacts();
const dir = join(RESULTS_DIR, `profile-${new Date().toISOString().replace(/[:.]/g, '-')}`);
mkdirSync(dir, { recursive: true });
const log = (line: string) => process.stderr.write(`${line}\n`);

const server = await startIsolane({
  collect: false,
  nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${dir}`, `--cpu-prof-interval=${intervalUs}`],
  args: values.executors === undefined ? [] : ['--executors', values.executors],
});
let window: { fromUs: number; toUs: number };
let requestsPerSecond: number;
try {
  await server.deployModule(values.worker, await bundleWorker(workload.file));
  const load = { url: server.dataUrl, host: `${values.worker}.localhost`, connections, path: workload.path, method: workload.method, body: workload.body };
  log(`profile: ${values.worker}, warming up 2 s`);
  await closedLoop({ ...load, seconds: 2 });
  log(`profile: ${seconds} s of closed-loop load on ${connections} connections`);
  const fromUs = Number(process.hrtime.bigint() / 1000n);
  const result = await closedLoop({ ...load, seconds });
  window = { fromUs, toUs: Number(process.hrtime.bigint() / 1000n) };
  requestsPerSecond = result.requestsPerSecond;
  if (result.errors) throw new Error(`${result.errors} requests failed under profiling: ${JSON.stringify(result.statusCounts)}`);
} finally {
  // SIGTERM drains and exits every process normally, which is when --cpu-prof writes the files.
  await server.stop();
}

// CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile
const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
const pidOf = (file: string) => Number(file.split('.')[3]);
const primaryFiles = files.filter((f) => pidOf(f) === server.pid);
const servingFiles = files.filter((f) => pidOf(f) !== server.pid);
if (!primaryFiles.length || !servingFiles.length) throw new Error(`expected profiles of the primary and the serving processes in ${dir}, found: ${files.join(', ') || 'none'}`);

const fold = (list: string[]) => {
  const tree = emptyTree();
  for (const file of list) addProfile(tree, join(dir, file), window.fromUs, window.toUs);
  return tree;
};
const serving = fold(servingFiles);
const primary = fold(primaryFiles);
const title = (who: string) => `Isolane ${who}, ${values.worker} worker, ${seconds} s closed loop (${connections} connections), commit ${machine.git.commit?.slice(0, 10) ?? 'unknown'}`;
writeFileSync(join(dir, 'serving.svg'), flameGraphSvg(serving, title(`serving processes (${servingFiles.length})`)));
writeFileSync(join(dir, 'primary.svg'), flameGraphSvg(primary, title('primary')));
const summary = summaryMarkdown({ machine, serving, primary, servingCount: servingFiles.length, requestsPerSecond });
writeFileSync(join(dir, 'summary.md'), summary);
console.log(summary);
log(`profile: wrote ${dir}/{serving.svg,primary.svg,summary.md} and ${files.length} .cpuprofile files`);

function summaryMarkdown(run: { machine: MachineFacts; serving: CallNode; primary: CallNode; servingCount: number; requestsPerSecond: number }): string {
  const requests = run.requestsPerSecond * seconds;
  const pct = (n: number, of: number) => `${((n / (of || 1)) * 100).toFixed(1)}%`;
  // A sample stands for one interval of the thread's time: µs per request is samples × interval ÷ requests.
  const usPerRequest = (n: number) => ((n * intervalUs) / (requests || 1)).toFixed(2);
  const section = (name: string, tree: CallNode) => {
    const kinds = samplesByKind(tree);
    const lines = [
      `## ${name}: ${tree.total} busy samples, ~${usPerRequest(tree.total)} µs of busy main-thread time a request`,
      '',
      '| kind of code (self samples) | share | µs a request |',
      '|---|---|---|',
      ...(Object.keys(kinds) as CodeKind[]).map((k) => `| ${KIND_LABELS[k]} | ${pct(kinds[k], tree.total)} | ${usPerRequest(kinds[k])} |`),
      '',
      '| top functions by self samples | where | share | µs a request |',
      '|---|---|---|---|',
      ...topFunctions(tree, 'self', 20).map((f) => `| \`${f.name}\` | ${f.where || '(native)'} | ${pct(f.samples, tree.total)} | ${usPerRequest(f.samples)} |`),
      '',
      "| top functions of Isolane's own code, inclusive | where | share | µs a request |",
      '|---|---|---|---|',
      ...topFunctions(tree, 'total', 400)
        .filter((f) => f.kind === 'isolane')
        .slice(0, 15)
        .map((f) => `| \`${f.name}\` | ${f.where} | ${pct(f.samples, tree.total)} | ${usPerRequest(f.samples)} |`),
      '',
    ];
    return lines.join('\n');
  };
  return [
    `# CPU profile: ${values.worker} worker, ${seconds} s closed loop`,
    '',
    `\`npm run bench:profile -- --worker ${values.worker} --seconds ${seconds}${connections !== 32 ? ` --connections ${connections}` : ''}${intervalUs !== 250 ? ` --interval-us ${intervalUs}` : ''}${values.executors ? ` --executors ${values.executors}` : ''}\``,
    '',
    `${machineLine(run.machine)}.`,
    '',
    `Under the profiler (one sample every ${intervalUs} µs): ${Math.round(run.requestsPerSecond)} requests/s, ${run.servingCount} serving processes. ` +
      "Shares are of each process group's busy samples, idle left out. Tenant code runs in isolates this profiler does not sample: " +
      "its time (and isolated-vm's) is the self time of the host function that enters the isolate (src/isolates/tenant-isolate.ts). " +
      'A sample stands for the interval before it while the thread was not idle, so on oversubscribed cores busy time includes waiting for a core; ' +
      "and V8's sampler over-counts functions that make system calls (a clock read, a socket write): `perf` is the reference for native code.",
    '',
    section('Serving processes', run.serving),
    section('Primary', run.primary),
  ].join('\n');
}
