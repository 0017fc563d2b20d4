/**
 * V8 CPU profiles (the `.cpuprofile` files `node --cpu-prof` writes) folded into one call tree:
 * samples outside a time window are dropped, profiles of several processes are merged by call path,
 * and the tree answers "where does the time go" by function (self and inclusive) and by kind of code.
 *
 * Sample times are V8's monotonic clock in µs, the clock of `process.hrtime`, so a window taken in the
 * harness (`process.hrtime.bigint() / 1000n`) selects the samples of a load run.
 */
import { readFileSync } from 'node:fs';
import { ROOT } from './isolane-server.ts';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** One frame of the merged tree: a function at one call path. */
export interface CallNode {
  name: string;
  /** Where the function is: a path relative to the checkout, a `node:` module, or '' (native, V8's own). */
  where: string;
  kind: CodeKind;
  /** Samples with this frame on top. */
  self: number;
  /** Samples with this frame anywhere below (itself included). */
  total: number;
  children: Map<string, CallNode>;
}

export type CodeKind = 'isolane' | 'dependency' | 'node' | 'gc' | 'native';

export const KIND_LABELS: Record<CodeKind, string> = {
  isolane: "Isolane's own code (src/)",
  dependency: 'dependencies (node_modules/)',
  node: "Node.js's JavaScript (node:*)",
  gc: 'garbage collection',
  native: 'native code and V8 (builtins, "(program)")',
};

const ROOT_URL = `file://${ROOT}/`;

function kindOf(name: string, url: string): CodeKind {
  if (name === '(garbage collector)') return 'gc';
  if (url.startsWith('node:')) return 'node';
  if (url.includes('/node_modules/')) return 'dependency';
  if (url.startsWith(ROOT_URL)) return 'isolane';
  return 'native';
}

function newNode(name: string, where: string, kind: CodeKind): CallNode {
  return { name, where, kind, self: 0, total: 0, children: new Map() };
}

/** An empty tree to merge profiles into. */
export function emptyTree(): CallNode {
  return newNode('(all)', '', 'native');
}

/**
 * Adds the samples of `file` taken in [fromUs, toUs] to `tree`. Idle samples are left out: the tree
 * holds where busy time went. Returns how many samples were added.
 */
export function addProfile(tree: CallNode, file: string, fromUs = -Infinity, toUs = Infinity): number {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const hits = new Map<number, number>();
  let t = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i] ?? 0;
    if (t < fromUs || t > toUs) continue;
    const id = profile.samples[i]!;
    hits.set(id, (hits.get(id) ?? 0) + 1);
  }
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const root = profile.nodes[0];
  if (!root) return 0;
  let added = 0;
  // Walks V8's tree (its root is "(root)") and adds each node's hits along the same path in ours.
  const walk = (node: ProfileNode, into: CallNode): number => {
    let total = hits.get(node.id) ?? 0;
    const self = total;
    for (const childId of node.children ?? []) {
      const child = byId.get(childId)!;
      const { functionName, url, lineNumber } = child.callFrame;
      if (functionName === '(idle)') continue;
      const name = functionName || '(anonymous)';
      const where = url.startsWith(ROOT_URL) ? `${url.slice(ROOT_URL.length)}:${lineNumber + 1}` : url ? `${url}:${lineNumber + 1}` : '';
      const key = `${name} ${where}`;
      let target = into.children.get(key);
      if (!target) into.children.set(key, (target = newNode(name, where, kindOf(name, url))));
      total += walk(child, target);
    }
    into.self += node === root ? 0 : self;
    into.total += total;
    added += node === root ? 0 : self;
    return total;
  };
  walk(root, tree);
  return added;
}

export interface FunctionShare {
  name: string;
  where: string;
  kind: CodeKind;
  samples: number;
}

/** Functions by self samples, or by inclusive samples (a recursive function counted once per sample). */
export function topFunctions(tree: CallNode, by: 'self' | 'total', limit: number): FunctionShare[] {
  const counts = new Map<string, FunctionShare>();
  const walk = (node: CallNode, onPath: Set<string>) => {
    for (const [key, child] of node.children) {
      const share = counts.get(key) ?? { name: child.name, where: child.where, kind: child.kind, samples: 0 };
      counts.set(key, share);
      if (by === 'self') share.samples += child.self;
      else if (!onPath.has(key)) share.samples += child.total;
      const deeper = by === 'total' && !onPath.has(key) ? new Set(onPath).add(key) : onPath;
      walk(child, deeper);
    }
  };
  walk(tree, new Set());
  return [...counts.values()].sort((a, b) => b.samples - a.samples).slice(0, limit);
}

/** Self samples by kind of code. */
export function samplesByKind(tree: CallNode): Record<CodeKind, number> {
  const out: Record<CodeKind, number> = { isolane: 0, dependency: 0, node: 0, gc: 0, native: 0 };
  const walk = (node: CallNode) => {
    for (const child of node.children.values()) {
      out[child.kind] += child.self;
      walk(child);
    }
  };
  walk(tree);
  return out;
}
