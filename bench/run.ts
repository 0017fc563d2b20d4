/**
 * The benchmark harness: runs every scenario in bench/scenarios/ (each file exports `scenario`), or
 * those named with --only, prints progress to stderr, and writes bench/results/<timestamp>.json,
 * a Markdown summary (stdout and bench/results/latest.md) and an HTML report with charts
 * (bench/results/<timestamp>.html and latest.html).
 *
 *   npm run bench                                    # everything, full length (~10-15 min)
 *   npm run bench -- --quick                         # everything, short (smoke check, < 2 min)
 *   npm run bench -- --only throughput,latency --rounds 5 --seconds 5
 *   npm run bench -- --list
 *
 * Scenario-specific flags (e.g. --connections) are passed through; each scenario reads its own.
 * Every server is started here on loopback and stopped at the end; load goes only to 127.0.0.1.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { machineFacts } from './lib/machine.ts';
import { machineBusySeconds } from './lib/proc.ts';
import { runMarkdown, writeReport, type RunReport } from './lib/report.ts';
import type { Scenario, ScenarioResult } from './lib/types.ts';

const SCENARIOS_DIR = join(import.meta.dirname, 'scenarios');
/** Order of the issue's scenarios; any other file runs after them, alphabetically. */
const PREFERRED = ['throughput', 'latency', 'cold-start', 'density', 'metering', 'noisy-neighbours', 'noisy-neighbors', 'deploy-to-live', 'deploy'];

const { values } = parseArgs({
  strict: false,
  options: {
    only: { type: 'string' },
    skip: { type: 'string' },
    quick: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    seconds: { type: 'string' },
    list: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});

if (values.help) {
  console.log(`npm run bench -- [--only a,b] [--skip a,b] [--quick] [--rounds N] [--seconds S] [--list]
  --quick     short runs (1 round of 2 s unless --rounds/--seconds say otherwise)
  --rounds    alternating rounds per comparison (default 3)
  --seconds   seconds per closed-loop round (default 5)
  --noise-threshold P, --noise-retries N
              a comparison run during which other processes used more than P% of a core (default 25)
              is run again, at most N times (default 1)
  --wait-quiet S
              before each run, wait up to S seconds for other processes to use less than that (default 0)
  --client lean|undici
              closed loops from a process of their own with a lean HTTP/1.1 client (default), or with
              undici's Pool from the harness process (open loops always use the lean client)
  scenario flags: --connections N --pipelining N --no-edge (throughput), --connections N --rate R --no-workerd (latency), --workers N,N (density)`);
  process.exit(0);
}

async function discover(): Promise<Scenario[]> {
  const files = readdirSync(SCENARIOS_DIR).filter((f) => /\.(ts|js|mjs)$/.test(f) && !f.endsWith('.d.ts') && !f.startsWith('_') && !/\.test\./.test(f));
  const found: Scenario[] = [];
  for (const file of files) {
    const mod = (await import(pathToFileURL(join(SCENARIOS_DIR, file)).href)) as { scenario?: Scenario };
    if (mod.scenario && typeof mod.scenario.run === 'function') found.push(mod.scenario);
    else console.error(`bench: ${file} exports no \`scenario\`; skipped`);
  }
  const rank = (id: string) => {
    const i = PREFERRED.indexOf(id);
    return i === -1 ? PREFERRED.length : i;
  };
  return found.sort((a, b) => rank(a.id) - rank(b.id) || a.id.localeCompare(b.id));
}

const list = (v: unknown) => (typeof v === 'string' ? v.split(',').map((s) => s.trim()).filter(Boolean) : null);

const all = await discover();
if (values.list) {
  for (const s of all) console.log(`${s.id.padEnd(20)} ${s.title}`);
  process.exit(0);
}
const only = list(values.only);
const skip = list(values.skip) ?? [];
for (const id of [...(only ?? []), ...skip]) if (!all.some((s) => s.id === id)) throw new Error(`no scenario "${id}"; there are: ${all.map((s) => s.id).join(', ')}`);
const chosen = all.filter((s) => (only ? only.includes(s.id) : true) && !skip.includes(s.id));

const quick = values.quick === true;
const rounds = Number(values.rounds ?? (quick ? 1 : 3));
const seconds = Number(values.seconds ?? (quick ? 2 : 5));
if (!(rounds >= 1 && seconds > 0)) throw new Error('--rounds must be >= 1 and --seconds > 0');

const started = new Date();
const t0 = performance.now();
const log = (line: string) => console.error(`[${((performance.now() - t0) / 1000).toFixed(0).padStart(4)} s] ${line}`);
const machine = machineFacts();
log(`bench: ${chosen.map((s) => s.id).join(', ')}; ${quick ? 'quick, ' : ''}${rounds} rounds × ${seconds} s; ${machine.cores} × ${machine.cpuModel}, Node ${machine.node}, commit ${machine.git.commit?.slice(0, 10)}`);

// Stop by itself even if a scenario hangs: a generous ceiling over the whole run.
const ceilingMs = (quick ? 10 : 40) * 60_000;
const ceiling = setTimeout(() => {
  console.error(`bench: still running after ${ceilingMs / 60_000} min; giving up`);
  process.exit(2);
}, ceilingMs);
ceiling.unref();

const results: ScenarioResult[] = [];
const failures: RunReport['failures'] = [];
let interrupted = false;
// On a signal, exit through process.exit so the 'exit' hook of bench/lib kills every server started.
for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]] as const) {
  process.once(signal, () => {
    interrupted = true;
    console.error(`bench: ${signal}; stopping servers`);
    process.exit(code);
  });
}
/** How busy the machine is with other work right now: % of one core over one second. */
async function backgroundCpuPercent(): Promise<number> {
  const before = machineBusySeconds();
  const self = process.cpuUsage();
  await new Promise((r) => setTimeout(r, 1000));
  const own = process.cpuUsage(self);
  return (machineBusySeconds() - before - (own.user + own.system) / 1e6) * 100;
}

for (const s of chosen) {
  const background = await backgroundCpuPercent();
  log(`── ${s.id}: ${s.title}${background >= 15 ? ` (warning: other processes use ${background.toFixed(0)}% of a core right now; figures will be noisy)` : ''}`);
  const ts = performance.now();
  try {
    results.push(await s.run({ quick, rounds, seconds, log: (line) => log(`${s.id}: ${line}`) }));
    log(`── ${s.id} done in ${((performance.now() - ts) / 1000).toFixed(0)} s`);
  } catch (err) {
    const error = err instanceof Error ? (err.stack ?? err.message) : String(err);
    failures.push({ id: s.id, error });
    log(`── ${s.id} FAILED: ${error}`);
  }
  if (interrupted) break;
}

const report: RunReport = {
  startedAt: started.toISOString(),
  finishedAt: new Date().toISOString(),
  durationSeconds: (performance.now() - t0) / 1000,
  command: ['npm run bench', ...(process.argv.length > 2 ? ['--', ...process.argv.slice(2)] : [])].join(' '),
  options: { quick, rounds, seconds, only },
  machine,
  scenarios: results,
  failures,
};
const paths = writeReport(report);
console.log(runMarkdown(report));
log(`wrote ${paths.json}, ${paths.markdown}, ${paths.html}`);
process.exitCode = failures.length ? 1 : 0;
