/**
 * A call tree (bench/lib/cpu-profile.ts) drawn as a self-contained SVG flame graph: one box per frame,
 * as wide as its share of the samples, callees below their callers (an icicle), coloured by kind of
 * code. Hovering a box shows the function, where it is, and its samples. Opens in any browser; no
 * scripts, nothing external.
 */
import type { CallNode, CodeKind } from './cpu-profile.ts';
import { KIND_LABELS } from './cpu-profile.ts';

const WIDTH = 1200;
const ROW = 17;
const TOP = 48;
const CHAR_WIDTH = 6.6;
/** Boxes narrower than this are not drawn (their time is still in their callers' boxes). */
const MIN_WIDTH = 0.4;

const COLOURS: Record<CodeKind, string> = {
  isolane: '#f2a541',
  dependency: '#7fb3d5',
  node: '#82c785',
  gc: '#c39bd3',
  native: '#bfbfbf',
};

const escapeXml = (text: string) => text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** Rows the drawn boxes need (narrow ones are not drawn, nor their callees). */
function depthOf(node: CallNode, total: number): number {
  let depth = 0;
  for (const child of node.children.values()) if ((child.total / total) * WIDTH >= MIN_WIDTH) depth = Math.max(depth, depthOf(child, total));
  return depth + 1;
}

export function flameGraphSvg(tree: CallNode, title: string): string {
  const total = tree.total || 1;
  const height = TOP + depthOf(tree, total) * ROW + 40;
  const boxes: string[] = [];
  const draw = (node: CallNode, x: number, depth: number) => {
    const width = (node.total / total) * WIDTH;
    if (width < MIN_WIDTH) return;
    const y = TOP + depth * ROW;
    const share = ((node.total / total) * 100).toFixed(2);
    const selfShare = ((node.self / total) * 100).toFixed(2);
    const label = `${node.name}${node.where ? ` (${node.where})` : ''}`;
    const tip = `${label}\n${node.total} samples, ${share}% (self ${selfShare}%)`;
    const fits = Math.floor((width - 4) / CHAR_WIDTH);
    const text = fits >= 3 ? (node.name.length <= fits ? node.name : `${node.name.slice(0, fits - 2)}..`) : '';
    boxes.push(
      `<g><title>${escapeXml(tip)}</title><rect x="${x.toFixed(2)}" y="${y}" width="${width.toFixed(2)}" height="${ROW - 1}" fill="${COLOURS[node.kind]}" rx="1"/>` +
        (text ? `<text x="${(x + 2).toFixed(2)}" y="${y + ROW - 5}">${escapeXml(text)}</text>` : '') +
        '</g>',
    );
    let childX = x;
    const children = [...node.children.values()].sort((a, b) => b.total - a.total);
    for (const child of children) {
      draw(child, childX, depth + 1);
      childX += (child.total / total) * WIDTH;
    }
  };
  draw(tree, 0, 0);
  const legend = (Object.keys(COLOURS) as CodeKind[])
    .map((kind, i) => `<rect x="${i * 240}" y="${height - 28}" width="12" height="12" fill="${COLOURS[kind]}"/><text x="${i * 240 + 16}" y="${height - 18}">${escapeXml(KIND_LABELS[kind].split(' (')[0]!)}</text>`)
    .join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="monospace" font-size="11">
<style>text{fill:#222;pointer-events:none}g:hover rect{stroke:#000;stroke-width:0.8}</style>
<text x="0" y="16" font-size="14">${escapeXml(title)}</text>
<text x="0" y="34" fill="#555">${tree.total} busy samples; hover a box for its function, file and share (self = on top of the stack)</text>
${boxes.join('\n')}
${legend}
</svg>
`;
}
