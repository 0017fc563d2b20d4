#!/usr/bin/env node
// Runs the CLI on the project's pinned Node 24 (the `node` npm package), with the flag isolated-vm needs
// and a young generation capped at 8 MB per semi-space for the primary process (src/serving/serving-pool.ts
// says why; the serving processes get 8 MB too, src/serving/young-generation.ts).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const pinned = join(root, 'node_modules', '.bin', 'node');
const node = existsSync(pinned) ? pinned : process.execPath;
const child = spawn(node, ['--no-node-snapshot', '--max-semi-space-size=8', join(root, 'src', 'cli.ts'), ...process.argv.slice(2)], { stdio: 'inherit' });
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
