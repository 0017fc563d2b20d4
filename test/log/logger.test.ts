import { Writable } from 'node:stream';
import t from 'tap';
import { Logger } from '../../src/log/logger.ts';

t.test('a reader slower than the server: pending bytes stay bounded, and the drop is reported', async (t) => {
  let release: (() => void) | null = null;
  const received: string[] = [];
  // A sink that takes one write, then stalls until released.
  const out = new Writable({
    highWaterMark: 1024,
    write(chunk: Buffer, _encoding, callback) {
      received.push(chunk.toString());
      release = callback;
    },
  });
  const logger = new Logger(out, 64 * 1024);
  for (let turn = 0; turn < 50; turn++) {
    for (let i = 0; i < 100; i++) logger.write({ type: 'invocation', n: turn * 100 + i, pad: 'x'.repeat(100) });
    await new Promise((r) => setImmediate(r));
  }
  t.ok(out.writableLength <= 64 * 1024 + 100 * 130, `pending ${out.writableLength} bytes, not the ~600 KB written`);
  // Let the sink drain.
  while (release) {
    const next = release as () => void;
    release = null;
    next();
    await new Promise((r) => setImmediate(r));
  }
  await new Promise((r) => setImmediate(r));
  const all = received.join('').trim().split('\n').map((l) => JSON.parse(l));
  const dropped = all.find((l) => l.type === 'log-dropped');
  t.ok(dropped && dropped.lines > 0, `a log-dropped line counts ${dropped?.lines} lines`);
  t.equal(all.filter((l) => l.type === 'invocation').length + dropped.lines, 5000, 'every line is either written or counted');
});
