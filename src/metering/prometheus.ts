/** The usage figures in Prometheus' text exposition format, one series per worker. */
import { OUTCOMES } from '../types.ts';
import type { UsageLog } from './usage.ts';

/** Quantiles are computed over this recent window. */
const SUMMARY_WINDOW_SECONDS = 300;

export function renderPrometheus(usage: UsageLog): string {
  const lines: string[] = [];
  const workers = usage.workers().sort();
  const label = (worker: string) => `worker="${worker.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`))}"`;

  lines.push('# HELP isolane_invocations_total Invocations by outcome.', '# TYPE isolane_invocations_total counter');
  for (const worker of workers) {
    const totals = usage.totals(worker)!;
    for (const outcome of OUTCOMES) lines.push(`isolane_invocations_total{${label(worker)},outcome="${outcome}"} ${totals.outcomes[outcome]}`);
  }
  lines.push('# HELP isolane_cpu_seconds_total CPU time used by invocations.', '# TYPE isolane_cpu_seconds_total counter');
  for (const worker of workers) lines.push(`isolane_cpu_seconds_total{${label(worker)}} ${usage.totals(worker)!.cpuUs / 1e6}`);
  lines.push('# HELP isolane_billed_milliseconds_total CPU billed, each invocation rounded up to whole ms.', '# TYPE isolane_billed_milliseconds_total counter');
  for (const worker of workers) lines.push(`isolane_billed_milliseconds_total{${label(worker)}} ${usage.totals(worker)!.billedMs}`);

  for (const [name, help, pick] of [
    ['isolane_cpu_milliseconds', 'CPU per invocation over the last 5 minutes.', 'cpuMs'],
    ['isolane_wall_milliseconds', 'Wall time per invocation over the last 5 minutes.', 'wallMs'],
  ] as const) {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} summary`);
    for (const worker of workers) {
      const summary = usage.summary(worker, SUMMARY_WINDOW_SECONDS);
      lines.push(`${name}{${label(worker)},quantile="0.5"} ${summary[pick].p50}`);
      lines.push(`${name}{${label(worker)},quantile="0.99"} ${summary[pick].p99}`);
      const totals = usage.totals(worker)!;
      const count = Object.values(totals.outcomes).reduce((a, b) => a + b, 0);
      lines.push(`${name}_sum{${label(worker)}} ${pick === 'cpuMs' ? totals.cpuUs / 1000 : totals.wallMs}`);
      lines.push(`${name}_count{${label(worker)}} ${count}`);
    }
  }
  return lines.join('\n') + '\n';
}
