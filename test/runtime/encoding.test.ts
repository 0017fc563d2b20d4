import { readFileSync } from 'node:fs';
import t, { type Test } from 'tap';
import { Evaluator } from './harness.ts';

const ev = await Evaluator.create();
t.teardown(() => ev.dispose());

/** Each case decoded whole and in pieces of `piece` bytes (streaming) gives Node's encoding name and text. */
function decodesAsNode(t: Test, cases: [label: string, bytes: number[]][], piece: number): void {
  for (const [label, bytes] of cases) {
    const got = ev.run(`
      const bytes = new Uint8Array(${JSON.stringify(bytes)});
      const whole = new TextDecoder(${JSON.stringify(label)}).decode(bytes);
      const d = new TextDecoder(${JSON.stringify(label)});
      let streamed = '';
      for (let i = 0; i < bytes.length; i += ${piece}) streamed += d.decode(bytes.subarray(i, i + ${piece}), { stream: true });
      streamed += d.decode();
      return [d.encoding, whole, streamed];
    `) as [string, string, string];
    const expected = new TextDecoder(label).decode(new Uint8Array(bytes));
    t.same(got, [new TextDecoder(label).encoding, expected, expected], `${label}: ${JSON.stringify(expected).slice(0, 40)}`);
  }
}

t.test('TextEncoder', async (t) => {
  t.same(
    ev.run(`
      const e = new TextEncoder();
      const dest = new Uint8Array(4);
      const into = e.encodeInto('a€b', dest);
      const full = new Uint8Array(8);
      const fits = e.encodeInto('😀x', full);
      return [e.encoding, [...e.encode('aé€😀')], [...e.encode()], [...e.encode('\\ud800x')], into, [...dest], fits,
              e.encode('x') instanceof Uint8Array];
    `),
    [
      'utf-8',
      [0x61, 0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x98, 0x80],
      [],
      [0xef, 0xbf, 0xbd, 0x78],
      { read: 2, written: 4 },
      [0x61, 0xe2, 0x82, 0xac],
      { read: 3, written: 5 },
      true,
    ],
  );
  t.throws(() => ev.run(`new TextEncoder().encodeInto('x', new Uint16Array(2))`), { name: 'TypeError' });
});

t.test('TextDecoder: labels, BOM, replacement', async (t) => {
  t.same(
    ev.run(`
      const d = new TextDecoder();
      const bytes = (a) => new Uint8Array(a);
      return [
        d.encoding, d.fatal, d.ignoreBOM,
        new TextDecoder(' UTF8 ').encoding,
        new TextDecoder('unicode-1-1-utf-8').encoding,
        d.decode(bytes([0xef, 0xbb, 0xbf, 0x68, 0x69])),
        new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes([0xef, 0xbb, 0xbf, 0x68])),
        d.decode(bytes([0x61, 0xff, 0x62, 0xc3])),
        d.decode(bytes([0xf0, 0x9f, 0x98, 0x80])),
        d.decode(bytes([0xed, 0xa0, 0x80])),
        d.decode(bytes([0xe0, 0x80, 0x41])),
        d.decode(bytes([0xf0, 0x90, 0x80])),
        d.decode(new Uint16Array([0x6968]).buffer),
        d.decode(new DataView(bytes([0x61, 0x62, 0x63]).buffer, 1)),
        d.decode(new Uint8Array(new SharedArrayBuffer(1))),
        d.decode(),
      ];
    `),
    [
      'utf-8',
      false,
      false,
      'utf-8',
      'utf-8',
      'hi',
      '\ufeffh',
      'a\ufffdb\ufffd',
      '😀',
      '\ufffd\ufffd\ufffd',
      '\ufffd\ufffdA',
      '\ufffd',
      'hi',
      'bc',
      '\u0000',
      '',
    ],
  );
  t.throws(() => ev.run(`new TextDecoder('utf-32')`), { name: 'RangeError' });
  t.throws(() => ev.run(`new TextDecoder('iso-2022-kr')`), { name: 'RangeError' }, 'a label of the "replacement" encoding');
  t.throws(() => ev.run(`new TextDecoder().decode('string')`), { name: 'TypeError' });
});

t.test('TextDecoder: streaming keeps incomplete sequences and the BOM state', async (t) => {
  t.same(
    ev.run(`
      const d = new TextDecoder();
      const euro = [0xe2, 0x82, 0xac];
      const parts = [d.decode(new Uint8Array([0xef, 0xbb]), { stream: true }),
                     d.decode(new Uint8Array([0xbf, 0x61, euro[0]]), { stream: true }),
                     d.decode(new Uint8Array([euro[1]]), { stream: true }),
                     d.decode(new Uint8Array([euro[2], 0xf0, 0x9f]), { stream: true }),
                     d.decode(new Uint8Array([0x98, 0x80]), { stream: true }),
                     d.decode()];
      // A stream cut in the middle of a sequence ends with U+FFFD on flush.
      const cut = [d.decode(new Uint8Array([0x61, 0xe2, 0x82]), { stream: true }), d.decode()];
      // After a flush, a new stream strips its own BOM again.
      const again = d.decode(new Uint8Array([0xef, 0xbb, 0xbf, 0x62]));
      // A BOM in the middle of a stream is content.
      const middle = [d.decode(new Uint8Array([0x61]), { stream: true }), d.decode(new Uint8Array([0xef, 0xbb, 0xbf]))];
      return [parts, cut, again, middle];
    `),
    [['', 'a', '', '€', '😀', ''], ['a', '\ufffd'], 'b', ['a', '\ufeff']],
  );
});

t.test('TextDecoder: fatal throws TypeError and resets', async (t) => {
  t.same(
    ev.run(`
      const d = new TextDecoder('utf-8', { fatal: true });
      const errors = [];
      for (const input of [[0xff], [0xc3], [0xed, 0xa0, 0x80], [0x61, 0x80]]) {
        try { d.decode(new Uint8Array(input)); errors.push('no error'); } catch (e) { errors.push(e.name); }
      }
      let streamed;
      try { d.decode(new Uint8Array([0xe2]), { stream: true }); d.decode(); } catch (e) { streamed = e.name; }
      return [d.fatal, errors, streamed, d.decode(new Uint8Array([0x6f, 0x6b]))];
    `),
    [true, ['TypeError', 'TypeError', 'TypeError', 'TypeError'], 'TypeError', 'ok'],
  );
});

t.test('UTF-8 round trip over every code point class', async (t) => {
  t.equal(
    ev.run(`
      let s = '';
      for (let c = 0; c < 0x11000; c += 7) if (c < 0xd800 || c > 0xdfff) s += String.fromCodePoint(c);
      s += '\\u{10ffff}\\u{10000}';
      const bytes = new TextEncoder().encode(s);
      return new TextDecoder().decode(bytes) === s && await new Response(bytes).text() === s;
    `),
    true,
  );
});

t.test('atob and btoa', async (t) => {
  t.same(
    ev.run(`
      return [btoa(''), btoa('f'), btoa('fo'), btoa('foo'), btoa('\\xff\\xfe'), atob('Zm9v'), atob(' Zm 9v\\n'),
              atob('Zg'), atob('Zg=='), atob('Zm8='), atob('/+8='), atob(''), btoa(1234)];
    `),
    ['', 'Zg==', 'Zm8=', 'Zm9v', '//4=', 'foo', 'foo', 'f', 'f', 'fo', '\xff\xef', '', 'MTIzNA=='],
  );
  for (const bad of ['Zg=', 'Z', 'Zm9v=', 'Zg===', 'Z=g=', '*abc', 'Zm9v\u00e9']) {
    t.throws(() => ev.run(`atob(${JSON.stringify(bad)})`), { name: 'InvalidCharacterError' }, bad);
  }
  t.throws(() => ev.run(`btoa('€')`), { name: 'InvalidCharacterError' });
  t.same(
    ev.run(`try { atob('*') } catch (e) { return [e instanceof DOMException, e instanceof Error, e.code, e.name] }`),
    [true, true, 5, 'InvalidCharacterError'],
  );
});

t.test('DOMException', async (t) => {
  t.same(
    ev.run(`
      const a = new DOMException('msg', 'AbortError');
      const b = new DOMException('m2', { name: 'DataCloneError', cause: 'why' });
      const c = new DOMException();
      return [a.name, a.message, a.code, b.name, b.code, b.cause, c.name, c.message, c.code,
              DOMException.ABORT_ERR, a.ABORT_ERR, String(a), typeof a.stack, a.stack.startsWith('AbortError: msg'),
              Object.prototype.toString.call(a)];
    `),
    ['AbortError', 'msg', 20, 'DataCloneError', 25, 'why', 'Error', '', 0, 20, 20, 'AbortError: msg', 'string', true, '[object DOMException]'],
  );
});

t.test('long inputs are decoded by the host, with the same replacements as the runtime’s own decoder', async (t) => {
  const before = ev.worker.calls.filter(([op]) => op === 'decodeUtf8').length;
  const result = ev.run(`
    // ~2.5 MB: valid 1-4 byte sequences, malformed ones (stray continuations, truncated and overlong
    // sequences, surrogates, bytes over F4) and a BOM, with 1 MiB piece boundaries falling anywhere.
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    const kinds = [[0x41], [0xc3, 0xa9], [0xe2, 0x82, 0xac], [0xf0, 0x9f, 0x98, 0x80], [0x80], [0xe2, 0x82], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf5], [0xef, 0xbb, 0xbf]];
    const list = [0xef, 0xbb, 0xbf];
    while (list.length < 2.5e6) for (const b of kinds[random() < 0.6 ? 0 : Math.floor(random() * kinds.length)]) list.push(b);
    const bytes = new Uint8Array(list);
    const whole = new TextDecoder().decode(bytes);
    // The runtime's own decoder: a stream in 1,000-byte chunks never goes to the host.
    const streaming = new TextDecoder();
    let pieces = '';
    for (let i = 0; i < bytes.length; i += 1000) pieces += streaming.decode(bytes.subarray(i, i + 1000), { stream: true });
    pieces += streaming.decode();
    const valid = new TextEncoder().encode('h\\u00e9llo \\u20ac \\u{1f600} '.repeat(100000));
    let fatal;
    try { new TextDecoder('utf-8', { fatal: true }).decode(bytes); fatal = 'decoded' } catch (e) { fatal = e.name }
    return [bytes.length, whole === pieces, whole.charCodeAt(0) !== 0xfeff, whole.length, fatal,
      new TextDecoder('utf-8', { fatal: true }).decode(valid) === 'h\\u00e9llo \\u20ac \\u{1f600} '.repeat(100000),
      new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes).charCodeAt(0) === 0xfeff];
  `) as unknown[];
  t.equal(result[1], true, 'the host decodes exactly as the runtime’s state machine does');
  t.equal(result[2], true, 'the BOM is stripped once');
  t.equal(result[4], 'TypeError', 'fatal: malformed input throws');
  t.equal(result[5], true, 'fatal: valid input decodes');
  t.equal(result[6], true, 'ignoreBOM keeps it');
  const hostCalls = ev.worker.calls.filter(([op]) => op === 'decodeUtf8').length - before;
  t.ok(hostCalls >= 3, `decoded in pieces by the host (${hostCalls} calls)`);
});

t.test('with the addon, long inputs are decoded by V8 in the isolate, with the same replacements; fatal ones still by the host', async (t) => {
  const native = await Evaluator.create({ natives: true });
  t.teardown(() => native.dispose());
  // The inputs of the test above, and a few short malformed ones at the native threshold's length.
  const source = `
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    const kinds = [[0x41], [0xc3, 0xa9], [0xe2, 0x82, 0xac], [0xf0, 0x9f, 0x98, 0x80], [0x80], [0xe2, 0x82], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf5], [0xef, 0xbb, 0xbf], [0xf4, 0x90, 0x80, 0x80], [0xe0, 0x80, 0x80], [0xf0, 0x8f, 0xbf, 0xbf], [0xff]];
    const make = (n, bom) => { const list = bom ? [0xef, 0xbb, 0xbf] : []; while (list.length < n) for (const b of kinds[random() < 0.5 ? 0 : Math.floor(random() * kinds.length)]) list.push(b); return new Uint8Array(list) };
    const out = [];
    for (const [n, bom] of [[2.5e6, true], [1024, false], [1030, true], [5000, false]]) {
      const bytes = make(n, bom);
      const whole = new TextDecoder().decode(bytes);
      const streaming = new TextDecoder();
      let pieces = '';
      for (let i = 0; i < bytes.length; i += 1000) pieces += streaming.decode(bytes.subarray(i, i + 1000), { stream: true });
      pieces += streaming.decode();
      let h = 0; for (let i = 0; i < whole.length; i++) h = (h * 31 + whole.charCodeAt(i)) | 0;
      out.push([whole === pieces, whole.length, h, new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes).length - whole.length]);
    }
    let fatal; try { new TextDecoder('utf-8', { fatal: true }).decode(make(4096, false)); fatal = 'decoded' } catch (e) { fatal = e.name }
    out.push(fatal);
    return out;
  `;
  const before = native.worker.calls.filter(([op]) => op === 'decodeUtf8').length;
  const result = native.run(source);
  const hostCalls = native.worker.calls.filter(([op]) => op === 'decodeUtf8').length - before;
  t.same(result, ev.run(source), 'the same text as the host’s decoder and the runtime’s state machine, BOMs and all');
  t.ok((result as unknown[][]).slice(0, 4).every((r) => r[0] === true), 'each equal to the runtime’s own decoder, streamed');
  t.equal(hostCalls, 1, 'only the fatal decode asked the host');
});

t.test('TextDecoder over a SharedArrayBuffer decodes long inputs too, fatal or not, with the addon or not', async (t) => {
  const native = await Evaluator.create({ natives: true });
  t.teardown(() => native.dispose());
  const source = `
    const shared = new Uint8Array(new SharedArrayBuffer(5000));
    for (let i = 0; i < shared.length; i++) shared[i] = 0x61 + (i % 26);
    const view = new Uint8Array(shared.buffer, 10, 4000);
    return [new TextDecoder().decode(view).length, new TextDecoder('utf-8', { fatal: true }).decode(view).slice(0, 3), new TextDecoder('utf-8', { fatal: true }).decode(view).length];
  `;
  t.same(ev.run(source), [4000, 'klm', 4000], 'through the host');
  t.same(native.run(source), [4000, 'klm', 4000], 'and through the addon');
});

t.test('with the addon, strings are encoded by V8, with the same bytes as the runtime’s own encoder', async (t) => {
  const native = await Evaluator.create({ natives: true });
  t.teardown(() => native.dispose());
  // Lone surrogates (both halves, at either end), every UTF-8 length, and a string over the native
  // encoder's 2^20-code-unit piece with a surrogate pair across each piece boundary.
  const source = `
    const inputs = ['', 'a', 'aé€😀', '\\ud800x', 'x\\udc00', '\\ud83d', 'a'.repeat(70) + '\\ud800', '\\udfff' + 'é'.repeat(100)];
    inputs.push('ab' + '😀'.repeat(2 ** 20) + '\\ud800');
    inputs.push('a'.repeat(2 ** 20 - 1) + '😀' + 'b'.repeat(2 ** 20 - 1) + '😀');
    const e = new TextEncoder();
    return inputs.map((s) => { const b = e.encode(s); let h = 0; for (let i = 0; i < b.length; i++) h = (h * 31 + b[i]) | 0; return [b.length, h, b.length < 300 ? [...b].join(',') : ''] });
  `;
  t.same(native.run(source), ev.run(source), 'the same bytes, lone surrogates as U+FFFD');
  t.same(native.run(`return [...new Request('http://x/', { method: 'POST', body: 'é'.repeat(40) }).headers]`), [['content-type', 'text/plain;charset=UTF-8']]);
  t.same(native.run(`return new Response('é'.repeat(100)).arrayBuffer().then((b) => b.byteLength)`), 200, 'bodies use it too');
});

t.test('with the addon, atob and btoa run natively, with the WPT forgiving-base64 results and the same errors', async (t) => {
  const native = await Evaluator.create({ natives: true });
  t.teardown(() => native.dispose());
  const file = new URL('../fixtures/wpt/fetch/data-urls/resources/base64.json', import.meta.url);
  const cases = (JSON.parse(readFileSync(file, 'utf8')) as unknown[]).filter((c): c is [string, number[] | null] => Array.isArray(c));
  const decode = (e: Evaluator) => e.run(`return ${JSON.stringify(cases.map((c) => c[0]))}.map((s) => { try { return [...atob(s)].map((c) => c.charCodeAt(0)) } catch (e) { return e.name } })`);
  t.same(decode(native), cases.map((c) => c[1] ?? 'InvalidCharacterError'), `${cases.length} WPT cases`);
  const encode = `
    let all = ''; for (let i = 0; i < 256; i++) all += String.fromCharCode(i);
    const inputs = ['', 'a', 'ab', 'abc', 'abcd', all, all.repeat(300), 'é\\u00ff\\u0000'];
    const out = inputs.map((s) => btoa(s));
    const back = out.map((b) => atob(b) === inputs[out.indexOf(b)]);
    let error; try { btoa('ok\\u0100') } catch (e) { error = [e.name, e.message] }
    return [out.map((b) => b.length + ':' + b.slice(0, 40) + b.slice(-8)), back, error, atob(' YW Jj\\nZA = = '), (() => { try { return atob('YW=Jj') } catch (e) { return e.name } })()];
  `;
  t.same(native.run(encode), ev.run(encode), 'btoa as the runtime’s own, errors included');
});

t.test('TextDecoder: UTF-16LE, UTF-16BE and windows-1252 (latin1, ascii) decode as Node decodes them', async (t) => {
  const cases: [label: string, bytes: number[]][] = [
    ['utf-16le', [0xff, 0xfe, 0x68, 0x00, 0xe9, 0x00, 0x3d, 0xd8, 0x00, 0xde, 0xac, 0x20]],
    ['utf-16be', [0xfe, 0xff, 0x00, 0x68, 0x00, 0xe9, 0xd8, 0x3d, 0xde, 0x00, 0x20, 0xac]],
    ['utf-16le', [0x00, 0xd8, 0x41, 0x00, 0x00, 0xdc, 0x42]],
    ['latin1', Array.from({ length: 256 }, (_, i) => i)],
    ['ascii', [0x80, 0x9f, 0xa9, 0x41]],
  ];
  decodesAsNode(t, cases, 3);
  t.same(
    ev.run(`
      const errors = [];
      for (const bytes of [[0x00, 0xd8, 0x41, 0x00], [0x41]]) {
        try { new TextDecoder('utf-16le', { fatal: true }).decode(new Uint8Array(bytes)); errors.push('decoded'); } catch (e) { errors.push(e.name); }
      }
      return [errors, new TextDecoder('utf-16le', { ignoreBOM: true }).decode(new Uint8Array([0xff, 0xfe, 0x41, 0x00])).length];
    `),
    [['TypeError', 'TypeError'], 2],
  );
});

t.test('TextDecoder: the other legacy encodings (Shift_JIS, GBK, EUC-KR, windows-1251, ...) decode as Node decodes them, by the host', async (t) => {
  // Text in each encoding, from Node's own tables: the same bytes a page in that encoding holds.
  const cases: [label: string, bytes: number[]][] = [
    ['Shift_JIS', [0x82, 0xa0, 0x82, 0xa2, 0x8a, 0xbf, 0x8e, 0x9a, 0x41, 0x82]],
    ['sjis', [0x93, 0xfa, 0x96, 0x7b]],
    ['gbk', [0xc4, 0xe3, 0xba, 0xc3, 0x41]],
    ['gb18030', [0x81, 0x30, 0x81, 0x30, 0xc4, 0xe3]],
    ['big5', [0xa4, 0xa4, 0xa4, 0xe5]],
    ['euc-kr', [0xb0, 0xa1, 0xb3, 0xaa, 0x41]],
    ['euc-jp', [0xa4, 0xa2, 0xb4, 0xc1]],
    ['iso-2022-jp', [0x1b, 0x24, 0x42, 0x24, 0x22, 0x1b, 0x28, 0x42, 0x41]],
    ['windows-1251', [0xc0, 0xe1, 0xe2, 0x20, 0x41]],
    ['iso-8859-2', [0xa1, 0xb1, 0xe6]],
    ['koi8-r', [0xc1, 0xc2, 0xd7]],
    ['x-mac-cyrillic', [0x80, 0x81, 0xe0]],
    ['windows-874', [0xa1, 0xa2]],
    // Not stripped: only UTF-8 and UTF-16 have a byte order mark.
    ['windows-1251', [0xef, 0xbb, 0xbf, 0x41]],
  ];
  // Cut one byte at a time: a multi-byte character is split across calls.
  decodesAsNode(t, cases, 1);
  t.same(
    ev.run(`
      const errors = [];
      try { new TextDecoder('shift_jis', { fatal: true }).decode(new Uint8Array([0x82])); errors.push('decoded'); } catch (e) { errors.push(e.name); }
      try { new TextDecoder('euc-kr', { fatal: true }).decode(new Uint8Array([0xb0, 0xa1])); errors.push('decoded'); } catch (e) { errors.push(e.name); }
      return [errors, new TextDecoder(' Shift_JIS ').encoding, new TextDecoderStream('gbk').encoding];
    `),
    [['TypeError', 'decoded'], 'shift_jis', 'gbk'],
  );
});

t.test('a legacy decode goes to the host a piece at a time, cut between characters, and a stream decodes as it goes', async (t) => {
  // 'あ' 600,000 times (no byte below 0x30 to cut after for 1.2 MB), a space, 'い' 600,000 times.
  const text = `${'あ'.repeat(600_000)} ${'い'.repeat(600_000)}`;
  t.equal(
    ev.run(`
      const bytes = new Uint8Array(2 * 1200000 + 1);
      for (let i = 0; i < 600000; i++) { bytes[2 * i] = 0x82; bytes[2 * i + 1] = 0xa0; bytes[1200001 + 2 * i] = 0x82; bytes[1200002 + 2 * i] = 0xa2; }
      bytes[1200000] = 0x20;
      return new TextDecoder('shift_jis').decode(bytes) === ${JSON.stringify(text)};
    `),
    true,
    'the same text as one decode',
  );
  // 3 MB of two-byte characters after one ASCII byte: every 1 MiB piece cuts a character in two, and
  // the host's decoder, shared by a decode()'s pieces, joins them. In gb18030 too (four-byte ones).
  t.same(
    ev.run(`
      const sjis = new Uint8Array(1 + 2 * 1500000); sjis[0] = 0x78;
      for (let i = 0; i < 1500000; i++) { sjis[1 + 2 * i] = 0x82; sjis[2 + 2 * i] = 0xa0; }
      const gb = new Uint8Array(1 + 4 * 700000); gb[0] = 0x78;
      for (let i = 0; i < 700000; i++) gb.set([0x81, 0x30, 0x81, 0x30], 1 + 4 * i);
      const a = new TextDecoder('shift_jis').decode(sjis), b = new TextDecoder('gb18030').decode(gb);
      return [a.length, a === 'x' + 'あ'.repeat(1500000), b.length, b === 'x' + '\\u0080'.repeat(700000)];
    `),
    [1500001, true, 700001, true],
  );
  t.same(
    ev.run(`
      const d = new TextDecoder('shift_jis');
      // 'あい ' then the first byte of 'う': what ends before the space's cut comes out at once.
      const first = d.decode(new Uint8Array([0x82, 0xa0, 0x82, 0xa2, 0x20, 0x82]), { stream: true });
      const rest = d.decode(new Uint8Array([0xa4]));
      return [first, rest];
    `),
    ['あい ', 'う'],
  );
});
