/**
 * The outputs of a run: bench/results/<timestamp>.json (everything), a Markdown summary (stdout and
 * bench/results/latest.md) and a self-contained HTML report (bench/results/<timestamp>.html and
 * latest.html) with inline SVG charts: no scripts, no external resources.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MachineFacts } from './machine.ts';
import type { Chart, ScenarioResult, Table } from './types.ts';
import { ROOT } from './isolane-server.ts';

export const RESULTS_DIR = process.env.ISOLANE_BENCH_RESULTS_DIR ?? join(ROOT, 'bench', 'results');

export interface RunReport {
  startedAt: string;
  finishedAt: string;
  durationSeconds: number;
  /** The command line that made this run. */
  command: string;
  options: { quick: boolean; rounds: number; seconds: number; only: string[] | null };
  machine: MachineFacts;
  scenarios: ScenarioResult[];
  /** Scenarios that threw: their id and the error. */
  failures: { id: string; error: string }[];
}

// ---------- Markdown ----------

function cell(value: string | number): string {
  if (typeof value === 'number') return formatNumber(value);
  return value.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Number.isInteger(value)) return value.toLocaleString('en-US');
  const abs = Math.abs(value);
  if (abs >= 1000) return Math.round(value).toLocaleString('en-US');
  if (abs >= 100) return value.toFixed(0);
  if (abs >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

function markdownTable(table: Table): string {
  return [`**${table.title}**`, '', `| ${table.columns.map(cell).join(' | ')} |`, `|${table.columns.map(() => '---').join('|')}|`, ...table.rows.map((r) => `| ${r.map(cell).join(' | ')} |`)].join('\n');
}

export function scenarioMarkdown(result: ScenarioResult): string {
  const parts = [`## ${result.title}`, '', `\`${result.command}\``];
  for (const table of result.tables) parts.push('', markdownTable(table));
  if (result.targets.length) {
    parts.push('', '| target | measured | wanted | met |', '|---|---|---|---|');
    for (const t of result.targets) parts.push(`| ${cell(t.name)} | ${formatNumber(t.measured)} ${t.unit} | ${cell(t.target)} | ${t.met ? 'yes' : '**no**'} |`);
  }
  if (result.notes.length) parts.push('', ...result.notes.map((n) => `- ${n}`));
  return parts.join('\n');
}

export function machineLine(m: MachineFacts): string {
  const deps = Object.entries(m.dependencies)
    .filter(([, v]) => v)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  return `${m.cores} × ${m.cpuModel}, ${m.memoryGiB} GiB, ${m.os}, Node ${m.node} (V8 ${m.v8}); ${deps}; commit ${m.git.commit?.slice(0, 10) ?? 'unknown'}${m.git.dirty ? ' (with uncommitted changes)' : ''}; load average at start ${m.loadAverage.join(' ')}`;
}

export function runMarkdown(report: RunReport): string {
  const parts = [`# Isolane benchmarks, ${report.startedAt}`, '', `\`${report.command}\` (${Math.round(report.durationSeconds)} s)`, '', machineLine(report.machine)];
  for (const s of report.scenarios) parts.push('', scenarioMarkdown(s));
  for (const f of report.failures) parts.push('', `## ${f.id}: FAILED`, '', '```', f.error, '```');
  return parts.join('\n') + '\n';
}

// ---------- SVG charts ----------

const PALETTE = ['#2563eb', '#dc2626', '#16a34a', '#d97706', '#7c3aed', '#0891b2', '#db2777', '#4b5563'];

function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Round numbers for an axis from 0 (or min) to max. */
function niceTicks(min: number, max: number, count = 5): number[] {
  if (!(max > min)) max = min + 1;
  const raw = (max - min) / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? raw;
  const ticks: number[] = [];
  for (let v = Math.floor(min / step) * step; v <= max + step * 1e-9; v += step) ticks.push(Math.round(v * 1e9) / 1e9);
  if (ticks[ticks.length - 1]! < max) ticks.push(ticks[ticks.length - 1]! + step);
  return ticks;
}

const W = 640;
const H = 320;
const M = { left: 64, right: 16, top: 36, bottom: 64 };

function frame(title: string, body: string, height = H): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${height}" width="${W}" height="${height}" role="img" aria-label="${esc(title)}" font-family="system-ui, sans-serif" font-size="11"><rect width="${W}" height="${height}" fill="#fff"/><text x="${W / 2}" y="20" text-anchor="middle" font-size="14" font-weight="600">${esc(title)}</text>${body}</svg>`;
}

function barsSvg(chart: Extract<Chart, { kind: 'bars' }>): string {
  const plotW = W - M.left - M.right;
  const plotH = H - M.top - M.bottom;
  const max = Math.max(0, ...chart.bars.map((b) => b.value).filter(Number.isFinite));
  const ticks = niceTicks(0, max || 1);
  const top = ticks[ticks.length - 1]!;
  const y = (v: number) => M.top + plotH - (v / top) * plotH;
  let body = '';
  for (const t of ticks) body += `<line x1="${M.left}" x2="${W - M.right}" y1="${y(t)}" y2="${y(t)}" stroke="#e5e7eb"/><text x="${M.left - 6}" y="${y(t) + 4}" text-anchor="end" fill="#374151">${esc(formatNumber(t))}</text>`;
  const slot = plotW / Math.max(1, chart.bars.length);
  const barW = Math.min(80, slot * 0.7);
  chart.bars.forEach((b, i) => {
    const x = M.left + slot * i + (slot - barW) / 2;
    const v = Number.isFinite(b.value) ? b.value : 0;
    body += `<rect x="${x}" y="${y(v)}" width="${barW}" height="${M.top + plotH - y(v)}" fill="${PALETTE[i % PALETTE.length]}"><title>${esc(`${b.label}: ${formatNumber(b.value)} ${chart.unit}`)}</title></rect>`;
    body += `<text x="${x + barW / 2}" y="${y(v) - 4}" text-anchor="middle" fill="#111827">${esc(formatNumber(b.value))}</text>`;
    const words = b.label.split(/\s+/);
    const lines: string[] = [];
    for (const w of words) {
      if (lines.length && (lines[lines.length - 1]! + ' ' + w).length <= Math.max(10, Math.floor(slot / 6))) lines[lines.length - 1] += ' ' + w;
      else lines.push(w);
    }
    lines.slice(0, 3).forEach((line, j) => (body += `<text x="${x + barW / 2}" y="${M.top + plotH + 14 + j * 13}" text-anchor="middle" fill="#374151">${esc(line)}</text>`));
  });
  body += `<text x="14" y="${M.top + plotH / 2}" transform="rotate(-90 14 ${M.top + plotH / 2})" text-anchor="middle" fill="#374151">${esc(chart.unit)}</text>`;
  return frame(chart.title, body);
}

function linesSvg(chart: Extract<Chart, { kind: 'lines' }>): string {
  const legendRows = Math.ceil(chart.series.length / 3);
  const height = H + legendRows * 16;
  const plotW = W - M.left - M.right;
  const plotH = H - M.top - M.bottom;
  const points = chart.series.flatMap((s) => s.points).filter(([x, yv]) => Number.isFinite(x) && Number.isFinite(yv) && (!chart.logY || yv > 0));
  const xs = points.map((p) => p[0]);
  const ys = points.map((p) => p[1]);
  const xMin = Math.min(...xs, ...(chart.xTicks ?? []).map((t) => t.value));
  const xMax = Math.max(...xs, ...(chart.xTicks ?? []).map((t) => t.value));
  const xTicks = chart.xTicks ?? niceTicks(xMin, xMax).map((v) => ({ value: v, label: formatNumber(v) }));
  const x0 = Math.min(xMin, ...xTicks.map((t) => t.value));
  const x1 = Math.max(xMax, ...xTicks.map((t) => t.value));
  const x = (v: number) => M.left + ((v - x0) / (x1 - x0 || 1)) * plotW;
  let yTicks: number[];
  let y: (v: number) => number;
  if (chart.logY) {
    const lo = Math.floor(Math.log10(Math.min(...ys)));
    const hi = Math.ceil(Math.log10(Math.max(...ys)));
    yTicks = [];
    for (let e = lo; e <= Math.max(hi, lo + 1); e++) yTicks.push(10 ** e);
    const a = Math.log10(yTicks[0]!);
    const b = Math.log10(yTicks[yTicks.length - 1]!);
    y = (v: number) => M.top + plotH - ((Math.log10(v) - a) / (b - a)) * plotH;
  } else {
    yTicks = niceTicks(0, Math.max(...ys, 0) || 1);
    const top = yTicks[yTicks.length - 1]!;
    y = (v: number) => M.top + plotH - (v / top) * plotH;
  }
  let body = '';
  for (const t of yTicks) body += `<line x1="${M.left}" x2="${W - M.right}" y1="${y(t)}" y2="${y(t)}" stroke="#e5e7eb"/><text x="${M.left - 6}" y="${y(t) + 4}" text-anchor="end" fill="#374151">${esc(formatNumber(t))}</text>`;
  for (const t of xTicks) body += `<line x1="${x(t.value)}" x2="${x(t.value)}" y1="${M.top}" y2="${M.top + plotH}" stroke="#f3f4f6"/><text x="${x(t.value)}" y="${M.top + plotH + 14}" text-anchor="middle" fill="#374151">${esc(t.label)}</text>`;
  chart.series.forEach((s, i) => {
    const color = PALETTE[i % PALETTE.length]!;
    const pts = s.points.filter(([px, py]) => Number.isFinite(px) && Number.isFinite(py) && (!chart.logY || py > 0));
    if (pts.length) body += `<polyline fill="none" stroke="${color}" stroke-width="2" points="${pts.map(([px, py]) => `${x(px).toFixed(1)},${y(py).toFixed(1)}`).join(' ')}"/>`;
    for (const [px, py] of pts) body += `<circle cx="${x(px).toFixed(1)}" cy="${y(py).toFixed(1)}" r="3" fill="${color}"><title>${esc(`${s.label}: ${formatNumber(px)} → ${formatNumber(py)} ${chart.unit}`)}</title></circle>`;
    const lx = M.left + (i % 3) * (plotW / 3);
    const ly = H - 18 + Math.floor(i / 3) * 16;
    body += `<rect x="${lx}" y="${ly - 9}" width="12" height="4" fill="${color}"/><text x="${lx + 16}" y="${ly - 4}" fill="#111827">${esc(s.label)}</text>`;
  });
  body += `<text x="${M.left + plotW / 2}" y="${M.top + plotH + 32}" text-anchor="middle" fill="#374151">${esc(chart.xLabel)}</text>`;
  body += `<text x="14" y="${M.top + plotH / 2}" transform="rotate(-90 14 ${M.top + plotH / 2})" text-anchor="middle" fill="#374151">${esc(chart.unit)}${chart.logY ? ' (log)' : ''}</text>`;
  return frame(chart.title, body, height);
}

function histogramSvg(chart: Extract<Chart, { kind: 'histogram' }>): string {
  const values = chart.values.filter(Number.isFinite).sort((a, b) => a - b);
  if (!values.length) return frame(chart.title, `<text x="${W / 2}" y="${H / 2}" text-anchor="middle">no data</text>`);
  // Clip the range at the 99th percentile so one outlier does not squash the rest; say how many were clipped.
  const hi = values[Math.min(values.length - 1, Math.floor(values.length * 0.99))]!;
  const lo = values[0]!;
  const binCount = Math.min(40, Math.max(5, Math.ceil(Math.sqrt(values.length))));
  const width = (hi - lo || 1) / binCount;
  const bins = new Array<number>(binCount).fill(0);
  let clipped = 0;
  for (const v of values) {
    if (v > hi) {
      clipped++;
      continue;
    }
    bins[Math.min(binCount - 1, Math.floor((v - lo) / width))]!++;
  }
  const plotW = W - M.left - M.right;
  const plotH = H - M.top - M.bottom;
  const yTicks = niceTicks(0, Math.max(...bins));
  const top = yTicks[yTicks.length - 1]!;
  const y = (v: number) => M.top + plotH - (v / top) * plotH;
  const xTicks = niceTicks(lo, hi);
  const x0 = Math.min(lo, xTicks[0]!);
  const x1 = Math.max(hi, xTicks[xTicks.length - 1]!);
  const x = (v: number) => M.left + ((v - x0) / (x1 - x0 || 1)) * plotW;
  let body = '';
  for (const t of yTicks) body += `<line x1="${M.left}" x2="${W - M.right}" y1="${y(t)}" y2="${y(t)}" stroke="#e5e7eb"/><text x="${M.left - 6}" y="${y(t) + 4}" text-anchor="end" fill="#374151">${esc(formatNumber(t))}</text>`;
  for (const t of xTicks) body += `<text x="${x(t)}" y="${M.top + plotH + 14}" text-anchor="middle" fill="#374151">${esc(formatNumber(t))}</text>`;
  bins.forEach((count, i) => {
    const bx = x(lo + i * width);
    const bw = Math.max(1, x(lo + (i + 1) * width) - bx - 1);
    body += `<rect x="${bx.toFixed(1)}" y="${y(count).toFixed(1)}" width="${bw.toFixed(1)}" height="${(M.top + plotH - y(count)).toFixed(1)}" fill="${PALETTE[0]}"><title>${esc(`${formatNumber(lo + i * width)}–${formatNumber(lo + (i + 1) * width)} ${chart.unit}: ${count}`)}</title></rect>`;
  });
  const median = values[Math.floor(values.length / 2)]!;
  body += `<line x1="${x(median)}" x2="${x(median)}" y1="${M.top}" y2="${M.top + plotH}" stroke="${PALETTE[1]}" stroke-dasharray="4 3"/><text x="${x(median) + 4}" y="${M.top + 12}" fill="${PALETTE[1]}">median ${esc(formatNumber(median))}</text>`;
  body += `<text x="${M.left + plotW / 2}" y="${M.top + plotH + 32}" text-anchor="middle" fill="#374151">${esc(chart.unit)}; ${values.length} values${clipped ? `, ${clipped} above p99 (max ${formatNumber(values[values.length - 1]!)}) not drawn` : ''}</text>`;
  body += `<text x="14" y="${M.top + plotH / 2}" transform="rotate(-90 14 ${M.top + plotH / 2})" text-anchor="middle" fill="#374151">count</text>`;
  return frame(chart.title, body);
}

export function chartSvg(chart: Chart): string {
  switch (chart.kind) {
    case 'bars':
      return barsSvg(chart);
    case 'lines':
      return linesSvg(chart);
    case 'histogram':
      return histogramSvg(chart);
  }
}

// ---------- HTML ----------

function htmlTable(table: Table): string {
  return `<table><caption>${esc(table.title)}</caption><thead><tr>${table.columns.map((c) => `<th>${esc(c)}</th>`).join('')}</tr></thead><tbody>${table.rows
    .map((r) => `<tr>${r.map((v) => `<td${typeof v === 'number' ? ' class="num"' : ''}>${esc(typeof v === 'number' ? formatNumber(v) : v)}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

export function runHtml(report: RunReport): string {
  const sections = report.scenarios.map((s) => {
    const targets = s.targets.length
      ? `<table><caption>Targets</caption><thead><tr><th>target</th><th>measured</th><th>wanted</th><th>met</th></tr></thead><tbody>${s.targets
          .map((t) => `<tr><td>${esc(t.name)}</td><td class="num">${esc(formatNumber(t.measured))} ${esc(t.unit)}</td><td>${esc(t.target)}</td><td class="${t.met ? 'met' : 'missed'}">${t.met ? 'yes' : 'no'}</td></tr>`)
          .join('')}</tbody></table>`
      : '';
    return `<section id="${esc(s.id)}"><h2>${esc(s.title)}</h2><p><code>${esc(s.command)}</code></p>${targets}${s.tables.map(htmlTable).join('')}<div class="charts">${s.charts.map((c) => `<figure>${chartSvg(c)}</figure>`).join('')}</div>${
      s.notes.length ? `<ul>${s.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>` : ''
    }</section>`;
  });
  const failures = report.failures.map((f) => `<section><h2>${esc(f.id)}: failed</h2><pre>${esc(f.error)}</pre></section>`);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Isolane benchmarks ${esc(report.startedAt)}</title>
<style>
body{font-family:system-ui,sans-serif;max-width:1340px;margin:24px auto;padding:0 16px;color:#111827}
table{border-collapse:collapse;margin:12px 0}caption{text-align:left;font-weight:600;padding:4px 0}
th,td{border:1px solid #d1d5db;padding:4px 8px;font-size:13px}th{background:#f3f4f6}td.num{text-align:right;font-variant-numeric:tabular-nums}
td.met{color:#15803d;font-weight:600}td.missed{color:#b91c1c;font-weight:600}
.charts{display:flex;flex-wrap:wrap;gap:12px}figure{margin:0;border:1px solid #e5e7eb}
section{border-top:2px solid #e5e7eb;margin-top:24px}code{background:#f3f4f6;padding:1px 4px}li{margin:4px 0}
</style></head><body>
<h1>Isolane benchmarks</h1>
<p>${esc(report.startedAt)}, ${Math.round(report.durationSeconds)} s: <code>${esc(report.command)}</code></p>
<p>${esc(machineLine(report.machine))}</p>
<nav>${report.scenarios.map((s) => `<a href="#${esc(s.id)}">${esc(s.title)}</a>`).join(' · ')}</nav>
${sections.join('\n')}
${failures.join('\n')}
</body></html>
`;
}

/** Writes the JSON, Markdown and HTML of a run; returns their paths. */
export function writeReport(report: RunReport): { json: string; markdown: string; html: string } {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const stamp = report.startedAt.replace(/[:.]/g, '-');
  const json = join(RESULTS_DIR, `${stamp}.json`);
  const html = join(RESULTS_DIR, `${stamp}.html`);
  const markdown = join(RESULTS_DIR, 'latest.md');
  writeFileSync(json, JSON.stringify(report, null, 2) + '\n');
  const md = runMarkdown(report);
  writeFileSync(markdown, md);
  writeFileSync(join(RESULTS_DIR, `${stamp}.md`), md);
  const page = runHtml(report);
  writeFileSync(html, page);
  writeFileSync(join(RESULTS_DIR, 'latest.html'), page);
  return { json, markdown, html };
}
