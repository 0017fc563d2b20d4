/**
 * CompressionStream and DecompressionStream (runtime/compression/) inside a real isolate: round trips
 * for each format with various chunkings, bytes made by node:zlib decompressed in the isolate and the
 * other way round, and the errors the Compression Standard asks for.
 */
import { deflateRawSync, deflateSync, gunzipSync, gzipSync, inflateRawSync, inflateSync } from 'node:zlib';
import t from 'tap';
import { Evaluator, TestWorker } from './harness.ts';

const ev = await Evaluator.create();
t.teardown(() => ev.dispose());

/** Helpers defined in each evaluation. */
const PRELUDE = `
  const concat = (chunks) => {
    const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
    let at = 0;
    for (const c of chunks) { out.set(c, at); at += c.length; }
    return out;
  };
  const split = (bytes, size) => {
    const out = [];
    for (let i = 0; i < bytes.length; i += size) out.push(bytes.slice(i, i + size));
    return out;
  };
  // Writes the chunks, reads everything; resolves to { bytes, chunks } or rejects with the stream's error.
  const pump = async (stream, chunks) => {
    const writer = stream.writable.getWriter();
    const reading = (async () => {
      const out = [];
      for await (const c of stream.readable) out.push(c);
      return out;
    })();
    for (const c of chunks) writer.write(c).catch(() => {});
    writer.close().catch(() => {});
    const out = await reading;
    return { bytes: concat(out), chunks: out };
  };
  const errorOf = async (promise) => {
    try { await promise; return 'no error'; } catch (e) { return e.name + (e instanceof TypeError ? '' : ' (not a TypeError)'); }
  };
  const b64 = (bytes) => btoa(String.fromCharCode(...bytes));
  const unb64 = (s) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
  // Text with some repetition, and pseudo-random bytes (which do not compress).
  const sample = (n) => {
    const out = new Uint8Array(n);
    let x = 12345;
    for (let i = 0; i < n; i++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      out[i] = i % 3000 < 2000 ? 'lorem ipsum dolor sit amet '.charCodeAt(i % 27) : x >>> 24;
    }
    return out;
  };
`;

const run = (code: string) => ev.run(PRELUDE + code);

const FORMATS = ['gzip', 'deflate', 'deflate-raw'] as const;
const compressors = { gzip: gzipSync, deflate: deflateSync, 'deflate-raw': deflateRawSync };
const decompressors = { gzip: gunzipSync, deflate: inflateSync, 'deflate-raw': inflateRawSync };

/** A deterministic sample like the isolate's `sample(n)`. */
function sample(n: number): Buffer {
  const out = Buffer.alloc(n);
  let x = 12345;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out[i] = i % 3000 < 2000 ? 'lorem ipsum dolor sit amet '.charCodeAt(i % 27) : x >>> 24;
  }
  return out;
}

t.test('the globals are lazy, named and replaceable', async (t) => {
  const fresh = await TestWorker.create();
  t.teardown(() => fresh.dispose());
  t.equal(fresh.eval(`typeof Object.getOwnPropertyDescriptor(globalThis, 'CompressionStream').get`), 'function', 'an accessor before first use');
  t.same(
    fresh.eval(`[CompressionStream.name, DecompressionStream.name, Object.getOwnPropertyDescriptor(globalThis, 'CompressionStream').enumerable,
      typeof Object.getOwnPropertyDescriptor(globalThis, 'CompressionStream').value,
      Object.prototype.toString.call(new CompressionStream('gzip')), Object.prototype.toString.call(new DecompressionStream('gzip')),
      new CompressionStream('deflate').readable instanceof ReadableStream, new DecompressionStream('deflate').writable instanceof WritableStream]`),
    ['CompressionStream', 'DecompressionStream', false, 'function', '[object CompressionStream]', '[object DecompressionStream]', true, true],
  );
  t.equal(fresh.eval(`DecompressionStream = 1; DecompressionStream`), 1);
});

t.test('round trips for each format and chunking', async (t) => {
  for (const format of FORMATS) {
    for (const size of [0, 1, 1000, 100000]) {
      const result = run(`
        const out = [];
        const input = sample(${size});
        for (const chunkSize of [1, 7, 4096, 65537, 1 << 20]) {
          if (chunkSize < 100 && input.length > 1000) continue;
          const compressed = (await pump(new CompressionStream('${format}'), split(input, chunkSize))).bytes;
          for (const readSize of [1, 13, 1000, 1 << 20]) {
            if (readSize < 100 && compressed.length > 2000) continue;
            const { bytes, chunks } = await pump(new DecompressionStream('${format}'), split(compressed, readSize));
            const same = bytes.length === input.length && bytes.every((b, i) => b === input[i]);
            const typed = chunks.every((c) => c.constructor === Uint8Array && c.length > 0);
            if (!same || !typed) out.push([chunkSize, readSize, same, typed]);
          }
        }
        return out;
      `);
      t.same(result, [], `${format}, ${size} bytes: every round trip gives back the input, in non-empty Uint8Array chunks`);
    }
  }
});

t.test('node:zlib output decompresses in the isolate', async (t) => {
  for (const format of FORMATS) {
    for (const size of [0, 5, 70000]) {
      const input = sample(size);
      const compressed = compressors[format](input);
      const got = run(`
        const { bytes } = await pump(new DecompressionStream('${format}'), split(unb64('${compressed.toString('base64')}'), 1000));
        return b64(bytes);
      `) as string;
      t.equal(Buffer.from(got, 'base64').compare(input), 0, `${format}, ${size} bytes`);
    }
  }
  // gzip with every optional header field (FEXTRA, FNAME, FCOMMENT, FHCRC), fed one byte at a time.
  const body = gzipSync(Buffer.from('hello, header')).subarray(10);
  const head = Buffer.concat([
    Buffer.from([0x1f, 0x8b, 8, 4 | 8 | 16 | 2, 0, 0, 0, 0, 0, 3]),
    Buffer.from([3, 0, 1, 2, 3]),
    Buffer.from('name.txt\0comment\0'),
  ]);
  const { crc32 } = await import('node:zlib');
  const hcrc = crc32(head) & 0xffff;
  const full = Buffer.concat([head, Buffer.from([hcrc & 0xff, hcrc >> 8]), body]);
  t.equal(
    run(`return new TextDecoder().decode((await pump(new DecompressionStream('gzip'), split(unb64('${full.toString('base64')}'), 1))).bytes);`),
    'hello, header',
  );
  const badHcrc = Buffer.from(full);
  badHcrc[head.length] ^= 1;
  t.equal(run(`return errorOf(pump(new DecompressionStream('gzip'), [unb64('${badHcrc.toString('base64')}')]));`), 'TypeError', 'a wrong header CRC');
});

t.test('isolate output decompresses with node:zlib', async (t) => {
  for (const format of FORMATS) {
    for (const size of [0, 5, 70000]) {
      const got = run(`return b64((await pump(new CompressionStream('${format}'), split(sample(${size}), 3000))).bytes);`) as string;
      const compressed = Buffer.from(got, 'base64');
      t.equal(decompressors[format](compressed).compare(sample(size)), 0, `${format}, ${size} bytes`);
      if (format === 'gzip') {
        t.same([...compressed.subarray(0, 4)], [0x1f, 0x8b, 8, 0], 'a gzip header with no optional fields');
        t.same([...compressed.subarray(4, 8)], [0, 0, 0, 0], 'and no modification time');
      }
    }
  }
});

t.test('constructor errors', async (t) => {
  t.same(
    run(`
      const out = [];
      for (const Ctor of [CompressionStream, DecompressionStream]) {
        for (const args of [[], [undefined], ['br'], ['GZIP'], ['gzip '], [{ toString() { return 'deflate'; } }]]) {
          try { new Ctor(...args); out.push('ok'); } catch (e) { out.push(e.constructor.name); }
        }
      }
      return out;
    `),
    ['TypeError', 'TypeError', 'TypeError', 'TypeError', 'TypeError', 'ok', 'TypeError', 'TypeError', 'TypeError', 'TypeError', 'TypeError', 'ok'],
  );
});

t.test('decompression errors are TypeErrors that error the stream', async (t) => {
  const results = run(`
    const out = {};
    for (const format of ['gzip', 'deflate', 'deflate-raw']) {
      const good = (await pump(new CompressionStream(format), [sample(5000)])).bytes;
      const cases = {
        empty: [],
        garbage: [new TextEncoder().encode('this is not compressed data at all')],
        truncated: [good.slice(0, good.length - 3)],
        truncatedBody: [good.slice(0, good.length >> 1)],
        trailing: [good, new Uint8Array([0])],
        trailingSameChunk: [concat([good, new Uint8Array([1, 2, 3])])],
        twice: [good, good],
        notBufferSource: ['text'],
        shared: [new Uint8Array(new SharedArrayBuffer(4))],
      };
      if (format !== 'deflate-raw') {
        const corrupt = good.slice();
        corrupt[corrupt.length - (format === 'gzip' ? 8 : 1)] ^= 1;
        cases.badChecksum = [corrupt];
      }
      if (format === 'gzip') {
        const wrongLength = good.slice();
        wrongLength[wrongLength.length - 1] ^= 1;
        cases.badLength = [wrongLength];
        const flags = good.slice();
        flags[3] = 0x20;
        cases.reservedFlags = [flags];
      }
      if (format === 'deflate') {
        cases.presetDictionary = [new Uint8Array([0x78, 0xbb, 0, 0, 0, 1, 3, 0])];
        cases.badHeaderCheck = [new Uint8Array([0x78, 0x9d, 3, 0, 0, 0, 0, 1])];
      }
      for (const [name, chunks] of Object.entries(cases)) out[format + ' ' + name] = await errorOf(pump(new DecompressionStream(format), chunks));
    }
    // A write after the error rejects; the readable is errored with the same TypeError.
    const ds = new DecompressionStream('deflate');
    const writer = ds.writable.getWriter();
    const reader = ds.readable.getReader();
    const first = writer.write(new Uint8Array([1, 2, 3, 4])).catch((e) => e);
    const read = await reader.read().catch((e) => e);
    out.readError = read instanceof TypeError;
    out.sameError = (await first) === read;
    out.closedRejects = await errorOf(writer.closed);
    return out;
  `) as Record<string, unknown>;
  for (const [name, value] of Object.entries(results)) {
    if (name === 'readError' || name === 'sameError') t.equal(value, true, name);
    else t.equal(value, 'TypeError', name);
  }
});

t.test('compression of a non-BufferSource chunk errors with a TypeError; views of every kind are read', async (t) => {
  t.same(
    run(`
      const kinds = [new Uint8Array([104, 105]), new Uint16Array([0x6968]), new DataView(new Uint8Array([104, 105]).buffer), new Uint8Array([104, 105]).buffer,
        new Uint8Array([0, 104, 105, 0]).subarray(1, 3)];
      const texts = [];
      for (const chunk of kinds) {
        const { bytes } = await pump(new CompressionStream('gzip'), [chunk]);
        texts.push(new TextDecoder().decode((await pump(new DecompressionStream('gzip'), [bytes])).bytes));
      }
      return [texts, await errorOf(pump(new CompressionStream('deflate'), [[1, 2]])), await errorOf(pump(new CompressionStream('deflate'), [null]))];
    `),
    [['hi', 'hi', 'hi', 'hi', 'hi'], 'TypeError', 'TypeError'],
  );
});

t.test('a chunk written to after it was taken does not change what is decompressed', async (t) => {
  t.equal(
    run(`
      const compressed = (await pump(new CompressionStream('deflate-raw'), [new TextEncoder().encode('stable '.repeat(100))])).bytes;
      const ds = new DecompressionStream('deflate-raw');
      const writer = ds.writable.getWriter();
      const reading = pump({ readable: ds.readable, writable: new WritableStream() }, []);
      const first = compressed.slice(0, 10);
      // Once the chunk was taken (its write resolved), the stream does not look at it again.
      await writer.write(first);
      first.fill(0);
      await writer.write(compressed.slice(10));
      await writer.close();
      return new TextDecoder().decode((await reading).bytes) === 'stable '.repeat(100);
    `),
    true,
  );
});

t.test('tenant changes to Object.prototype do not reach the codecs', async (t) => {
  const fresh = await TestWorker.create();
  t.teardown(() => fresh.dispose());
  const evaluator = await Evaluator.create();
  t.teardown(() => evaluator.dispose());
  t.equal(
    evaluator.run(`
      Object.prototype.level = 0;
      Object.prototype.dictionary = new TextEncoder().encode('abcdefghij');
      Object.prototype.mtime = 1234567890;
      ${PRELUDE}
      try {
        const input = sample(10000);
        const gz = (await pump(new CompressionStream('gzip'), [input])).bytes;
        const back = (await pump(new DecompressionStream('gzip'), [gz])).bytes;
        // Made by node:zlib with a dictionary: its back-references reach before the start, an error here.
        const early = await errorOf(pump(new DecompressionStream('deflate-raw'), [new Uint8Array([75, 196, 194, 2, 0])]));
        return [gz[4], gz.length < input.length, back.length === input.length && back.every((b, i) => b === input[i]), early].join();
      } finally {
        delete Object.prototype.level;
        delete Object.prototype.dictionary;
        delete Object.prototype.mtime;
      }
    `),
    '0,true,true,TypeError',
  );
});
