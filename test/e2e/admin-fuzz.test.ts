/**
 * Fuzzing the admin upload API (fast-check, fixed seed): random and mutated multipart bodies, bad
 * metadata, hostile module names, duplicate modules, sizes just over the limits, wrong content types,
 * odd worker names. Every answer is a 2xx or a 4xx with a JSON error code, never a 5xx; a rejected upload
 * leaves the store exactly as it was (the API's views and the files of the data directory). Then
 * concurrent uploads to one name, and wrong admin tokens.
 */
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import fc from 'fast-check';
import t from 'tap';
import { Client } from 'undici';
import { admin, send, startServer, TOKEN, type Reply, type TestServer } from '../helpers/server.ts';

const MAX_SCRIPT = 65_536;
const OVERHEAD = 256 * 1024; // multipart boundaries and metadata ride on top (src/admin/app.ts)
const SEED = Number(process.env.FUZZ_SEED ?? 20261126);
const RUNS = Number(process.env.FUZZ_RUNS ?? 200);

// An upload over the body limit (max script bytes + 256 KiB) is answered 413 by Hono's bodyLimit before the
// body is read, with `Connection: keep-alive`; Node then closes the connection because the rest of the body
// is unread. On a reused keep-alive connection the client often sees the socket close instead of the 413
// (measured: 10 of 20 such uploads interleaved with small ones on one undici pool: "other side closed").
/** Fixed: an upload over the body limit is answered 413 with Connection: close (its body is never read). */
const OVERSIZE_BUG = 'an upload over the body limit must be answered 413 "Connection: close": the server does not read its body, so the connection cannot carry another request';

const server = await startServer(t, { args: ['--max-script-bytes', String(MAX_SCRIPT), '--executors', '1'] });

const goodModule = (tag: string) => `export default { fetch() { return new Response(${JSON.stringify(tag)}) } }`;

/** Everything a rejected upload must leave untouched. */
async function snapshot(s: TestServer): Promise<string> {
  // code-cache/ is derived data (V8's compiled code, remade as workers run), not the store.
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).filter((e) => !(dir === s.dataDir && e.name === 'code-cache')).flatMap((e) => {
      const path = join(dir, e.name);
      return e.isDirectory() ? [`${relative(s.dataDir, path)}/`, ...walk(path)] : [`${relative(s.dataDir, path)} ${statSync(path).size}`];
    });
  const workers = (await admin(s, 'GET', '/v1/workers')).text;
  const versions = (await admin(s, 'GET', '/v1/workers/keep/versions')).text;
  const routes = (await admin(s, 'GET', '/v1/routes')).text;
  return JSON.stringify({ files: walk(s.dataDir).sort(), workers, versions, routes });
}

// ---- building upload bodies byte by byte (so names may hold NUL, quotes, CR LF ...) ----

interface Part {
  name: string;
  filename?: string | null;
  type?: string | null;
  content: Uint8Array;
}

const enc = new TextEncoder();
const bytes = (s: string) => enc.encode(s);
const concat = (chunks: Uint8Array[]) => {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
};

function multipart(boundary: string, parts: Part[], opts: { close?: boolean } = {}): Uint8Array {
  const chunks: Uint8Array[] = [];
  for (const p of parts) {
    let head = `--${boundary}\r\nContent-Disposition: form-data; name="${p.name}"`;
    if (p.filename !== null) head += `; filename="${p.filename ?? p.name}"`;
    head += '\r\n';
    if (p.type) head += `Content-Type: ${p.type}\r\n`;
    chunks.push(bytes(head + '\r\n'), p.content, bytes('\r\n'));
  }
  if (opts.close !== false) chunks.push(bytes(`--${boundary}--\r\n`));
  // Latin-1 for the head bytes that are not ASCII: what a client sending raw bytes would do.
  return concat(chunks);
}

interface Upload {
  label: string;
  name: string;
  contentType: string | null;
  body: Uint8Array;
  /** A known-valid upload (expected 2xx). */
  valid?: boolean;
}

const validMetadata = { main_module: 'main.js' };
const validUpload = (tag: string, name = 'keep'): Upload => ({
  label: 'valid',
  name,
  contentType: 'multipart/form-data; boundary=Bnd',
  body: multipart('Bnd', [
    { name: 'metadata', filename: null, content: bytes(JSON.stringify(validMetadata)) },
    { name: 'main.js', type: 'application/javascript+module', content: bytes(goodModule(tag)) },
  ]),
  valid: true,
});

const hostileModuleName = fc.constantFrom(
  '../evil.js', '../../etc/passwd', '/etc/passwd', '/abs.js', 'a/../../b.js', 'a/./b.js', './main.js', 'a//b.js', '.', '..', '',
  'nul\u0000.js', 'cr\rlf\n.js', 'back\\slash.js', 'C:\\win.js', '%2e%2e/x.js', 'x'.repeat(300), 'ünïcödé.js', 'quote".js', 'metadata',
  'main.js', 'lib/util.js', 'data.bin', 'm.wasm', 'x.json', 'x.txt', 'dir/', 'a\u2028b.js', '\u202e.js',
);
const partType = fc.constantFrom(
  null, 'application/javascript+module', 'application/javascript', 'text/javascript', 'text/plain', 'application/json',
  'application/octet-stream', 'application/wasm', 'text/html', 'image/png', 'application/javascript; charset=utf-8', ';;;', 'x'.repeat(500),
);
const moduleContent = fc.oneof(
  fc.constant(bytes(goodModule('fuzz'))),
  fc.constant(bytes('export default { fetch() { return new Response(')),
  fc.constant(bytes('{"json": true}')),
  fc.constant(bytes('import "./missing.js"; export default { fetch() {} }')),
  fc.constant(bytes('for (;;) {} export default { fetch() {} }')),
  fc.constant(new Uint8Array([0xff, 0xfe, 0x00, 0xc3, 0x28])),
  fc.string({ maxLength: 200 }).map(bytes),
  fc.uint8Array({ maxLength: 300 }),
);
const metadataText = fc.oneof(
  fc.constant(JSON.stringify(validMetadata)),
  fc.constant('{oops'),
  fc.constant(''),
  fc.constant('null'),
  fc.constant('[]'),
  fc.constant('"main.js"'),
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
  fc
    .record(
      {
        main_module: fc.oneof(fc.constant('main.js'), hostileModuleName, fc.integer(), fc.constant(null)),
        body_part: fc.oneof(fc.constant('main.js'), fc.constant(undefined)),
        compatibility_date: fc.oneof(fc.constant('2024-09-23'), fc.constant('yesterday'), fc.constant(20240923)),
        limits: fc.oneof(
          fc.record({ cpu_ms: fc.integer({ min: -5, max: 400_000 }) }),
          fc.record({ memory_mb: fc.oneof(fc.integer({ min: 0, max: 2000 }), fc.double()) }),
          fc.record({ wall_ms: fc.constantFrom(9, 10, 900_000, 900_001, 1.5, '100') }),
          fc.dictionary(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 }),
          fc.constant([]),
        ),
        bindings: fc.oneof(
          fc.constant([{ type: 'plain_text', name: 'A', text: 'x' }]),
          fc.constant([{ type: 'secret_text', name: 'A', text: 'x' }, { type: 'secret_text', name: 'A', text: 'y' }]),
          fc.constant([{ type: 'plain_text', name: 'not an identifier', text: 'x' }]),
          fc.constant([{ type: 'plain_text', name: 'A', text: 'x'.repeat(5 * 1024 + 1) }]),
          fc.constant([{ type: 'kv_namespace', name: 'KV' }]),
          fc.constant({}),
          fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 3 }),
        ),
        routes: fc.oneof(fc.constant(['keep.example.com/*']), fc.constant(['https://x/*']), fc.constant([42]), fc.constant('x'), fc.array(fc.string({ maxLength: 30 }), { maxLength: 3 })),
        fetch_allow: fc.oneof(fc.constant(['example.com']), fc.constant(['bad host!']), fc.constant('x'), fc.array(fc.string({ maxLength: 20 }), { maxLength: 3 })),
      },
      { requiredKeys: [] },
    )
    .map((m) => JSON.stringify(m)),
);
const workerName = fc.oneof(
  { weight: 8, arbitrary: fc.constant('keep') },
  { weight: 2, arbitrary: fc.constantFrom('Keep', 'kee_p', '-keep', 'keep-', 'a'.repeat(64), '..', '%2e%2e', 'keep%00', 'keep%2Fother', '%20', 'k'.repeat(63)) },
);

const structured: fc.Arbitrary<Upload> = fc
  .record({
    name: workerName,
    boundary: fc.oneof({ weight: 8, arbitrary: fc.constantFrom('Bnd', 'x', '----WebKitFormBoundary7MA4YWxkTrZu0gW') }, { weight: 2, arbitrary: fc.constantFrom('a'.repeat(70), 'a"b', 'sp ace') }),
    headerBoundary: fc.oneof({ weight: 8, arbitrary: fc.constant('same') }, { weight: 2, arbitrary: fc.constantFrom('other', 'missing', 'quoted', 'empty') }),
    metadata: fc.option(metadataText, { nil: null }),
    modules: fc.array(fc.record({ name: fc.oneof(fc.constant('main.js'), hostileModuleName), filename: fc.option(fc.constantFrom('main.js', '../x', ''), { nil: null }), type: partType, content: moduleContent }), { maxLength: 4 }),
    duplicateMain: fc.boolean(),
    close: fc.oneof({ weight: 9, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
  })
  .map(({ name, boundary, headerBoundary, metadata, modules, duplicateMain, close }) => {
    const parts: Part[] = [];
    if (metadata !== null) parts.push({ name: 'metadata', filename: null, content: bytes(metadata) });
    for (const m of modules) parts.push({ name: m.name, filename: m.filename ?? undefined, type: m.type, content: m.content });
    if (duplicateMain) parts.push({ name: 'main.js', type: 'application/javascript+module', content: bytes(goodModule('dup')) }, { name: './main.js', type: 'application/javascript+module', content: bytes(goodModule('dup2')) });
    const declared = { same: `boundary=${boundary}`, other: 'boundary=Other', missing: '', quoted: `boundary="${boundary}"`, empty: 'boundary=' }[headerBoundary];
    return { label: 'structured multipart', name, contentType: `multipart/form-data; ${declared}`, body: multipart(boundary, parts, { close }) };
  });

/** A valid multipart body with random damage. */
const mutated: fc.Arbitrary<Upload> = fc
  .record({
    ops: fc.array(
      fc.oneof(
        fc.record({ op: fc.constant('flip' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
        fc.record({ op: fc.constant('cut' as const), at: fc.nat() }),
        fc.record({ op: fc.constant('insert' as const), at: fc.nat(), data: fc.uint8Array({ minLength: 1, maxLength: 20 }) }),
        fc.record({ op: fc.constant('dup' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 80 }) }),
        fc.record({ op: fc.constant('drop' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 40 }) }),
        fc.record({ op: fc.constant('crlf' as const), at: fc.nat() }),
      ),
      { minLength: 1, maxLength: 4 },
    ),
  })
  .map(({ ops }) => {
    let body = validUpload('mutated').body;
    for (const o of ops) {
      const at = o.at % (body.byteLength + 1);
      if (o.op === 'flip' && at < body.byteLength) body = body.slice(), (body[at] = o.value);
      else if (o.op === 'cut') body = body.slice(0, at);
      else if (o.op === 'insert') body = concat([body.subarray(0, at), o.data, body.subarray(at)]);
      else if (o.op === 'dup') body = concat([body.subarray(0, at + o.length), body.subarray(at)]);
      else if (o.op === 'drop') body = concat([body.subarray(0, at), body.subarray(at + o.length)]);
      else if (o.op === 'crlf') body = concat([body.subarray(0, at), bytes('\r\n--Bnd\r\n'), body.subarray(at)]);
    }
    return { label: 'mutated multipart', name: 'keep', contentType: 'multipart/form-data; boundary=Bnd', body };
  });

const contentTypes = fc.constantFrom(
  null, '', 'text/html', 'application/json', 'application/javascript', 'application/javascript+module', 'text/javascript; charset=latin1',
  'multipart/form-data', 'multipart/form-data; boundary=', 'multipart/mixed; boundary=Bnd', 'application/x-www-form-urlencoded', '*/*', 'multipart/form-data; boundary=Bnd; boundary=Other',
);
const randomBody: fc.Arbitrary<Upload> = fc
  .record({ name: workerName, contentType: contentTypes, body: fc.oneof(fc.uint8Array({ maxLength: 400 }), fc.string({ maxLength: 200 }).map(bytes)) })
  .map((u) => ({ label: 'random body', ...u }));

/** Sizes at and just over the limits. */
const sized: fc.Arbitrary<Upload> = fc.constantFrom(
  'script at the limit', 'script one byte over', 'modules one byte over in total', 'body over limit + overhead', 'metadata huge', '1001 modules',
).map((kind): Upload => {
  const script = (n: number) => {
    const head = `export default { fetch() { return new Response('sized') } } // `;
    return bytes(head + 'x'.repeat(n - head.length));
  };
  const mp = (parts: Part[]) => ({ contentType: 'multipart/form-data; boundary=Bnd', body: multipart('Bnd', parts) });
  const meta: Part = { name: 'metadata', filename: null, content: bytes(JSON.stringify(validMetadata)) };
  switch (kind) {
    case 'script at the limit':
      return { label: kind, name: 'keep', contentType: 'application/javascript+module', body: script(MAX_SCRIPT), valid: true };
    case 'script one byte over':
      return { label: kind, name: 'keep', contentType: 'application/javascript+module', body: script(MAX_SCRIPT + 1) };
    case 'modules one byte over in total':
      return { label: kind, name: 'keep', ...mp([meta, { name: 'main.js', type: 'application/javascript+module', content: script(MAX_SCRIPT / 2) }, { name: 'pad.txt', type: 'text/plain', content: new Uint8Array(MAX_SCRIPT / 2 + 1).fill(97) }]) };
    case 'body over limit + overhead':
      return { label: kind, name: 'keep', ...mp([meta, { name: 'main.js', type: 'application/javascript+module', content: script(MAX_SCRIPT + OVERHEAD + 1) }]) };
    case 'metadata huge':
      return { label: kind, name: 'keep', ...mp([{ name: 'metadata', filename: null, content: bytes(JSON.stringify({ ...validMetadata, pad: 'x'.repeat(OVERHEAD) })) }, { name: 'main.js', type: 'application/javascript+module', content: bytes(goodModule('meta')) }]) };
    default:
      return { label: kind, name: 'keep', ...mp([meta, { name: 'main.js', type: 'application/javascript+module', content: bytes(goodModule('many')) }, ...Array.from({ length: 1001 }, (_, i) => ({ name: `m${i}.txt`, type: 'text/plain', content: bytes('x') }))]) };
  }
});

const anyUpload = fc.oneof(
  { weight: 4, arbitrary: structured },
  { weight: 3, arbitrary: mutated },
  { weight: 2, arbitrary: randomBody },
  { weight: 1, arbitrary: sized },
  { weight: 1, arbitrary: fc.nat(1_000_000).map((n) => validUpload(`valid ${n}`)) },
);

async function put(u: Upload): Promise<Reply> {
  const headers: Record<string, string> = {};
  if (u.contentType !== null) headers['content-type'] = u.contentType;
  if (u.body.byteLength <= MAX_SCRIPT + OVERHEAD) return admin(server, 'PUT', `/v1/workers/${u.name}`, { body: u.body, headers });
  // Over the body limit: a connection of its own, so OVERSIZE_BUG cannot break the next request.
  const client = new Client(server.adminUrl);
  try {
    const res = await client.request({ path: `/v1/workers/${u.name}`, method: 'PUT', headers: { ...headers, authorization: `Bearer ${TOKEN}` }, body: u.body });
    const text = await res.body.text();
    return { status: res.statusCode, headers: res.headers, text, json: () => JSON.parse(text) };
  } finally {
    await client.destroy();
  }
}

const tally = new Map<string, number>();
const count = (key: string) => tally.set(key, (tally.get(key) ?? 0) + 1);

t.before(async () => {
  const res = await put(validUpload('v1'));
  if (res.status !== 201) throw new Error(res.text);
});

t.test(`fuzz: ${RUNS} uploads (seed ${SEED}) never 5xx; rejected ones change nothing`, async (t) => {
  t.comment(`fast-check seed ${SEED}, ${RUNS} runs (FUZZ_SEED / FUZZ_RUNS to change)`);
  let before = await snapshot(server);
  let accepted = 0;
  const result = await fc.check(
    fc.asyncProperty(anyUpload, async (u) => {
      let reply: Reply;
      try {
        reply = await put(u);
      } catch (error) {
        // See OVERSIZE_BUG: counted and checked in a test of its own; the store must still be unchanged.
        if (u.body.byteLength <= MAX_SCRIPT + OVERHEAD) throw error;
        count(`no answer: ${(error as Error).message} (oversize, known bug)`);
        if ((await snapshot(server)) !== before) throw new Error(`an oversize upload changed the store`);
        return;
      }
      const where = `${u.label} → ${reply.status} ${reply.text.slice(0, 300)}`;
      if (reply.status >= 500) throw new Error(`5xx: ${where}`);
      if (!/application\/json/.test(String(reply.headers['content-type']))) throw new Error(`not JSON: ${where}`);
      const body = reply.json();
      if (reply.status >= 200 && reply.status < 300) {
        if (typeof body.version !== 'string') throw new Error(`2xx without a version: ${where}`);
        count(`${reply.status} ${u.label}`);
        accepted++;
        const live = await admin(server, 'GET', `/v1/workers/${u.name}`);
        if (live.json().activeVersion !== body.version) throw new Error(`accepted but not active: ${where}`);
        before = await snapshot(server);
        return;
      }
      if (reply.status < 400) throw new Error(`unexpected status: ${where}`);
      if (typeof body.error?.code !== 'string' || !body.error.code.startsWith('ISO_ERR_')) throw new Error(`4xx without an error code: ${where}`);
      if (u.valid) throw new Error(`a valid upload was rejected: ${where}`);
      count(`${reply.status} ${body.error.code}`);
      const after = await snapshot(server);
      if (after !== before) throw new Error(`a rejected upload changed the store: ${where}\nbefore ${before}\nafter  ${after}`);
    }),
    { seed: SEED, numRuns: RUNS },
  );
  // Not fast-check's own report: it would print the whole (up to 300 KiB) counterexample body.
  const failure = result.failed
    ? `run ${result.numRuns} (seed ${result.seed}, path ${result.counterexamplePath}, shrunk ${result.numShrinks}x): ${result.counterexample?.[0]?.label}, ${result.counterexample?.[0]?.body.byteLength} bytes: ${String(result.errorInstance).slice(0, 1500)}`
    : '';
  t.notOk(result.failed, result.failed ? failure : `${result.numRuns} runs passed`);
  t.comment(`answers: ${[...tally].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ×${n}`).join(', ')}`);
  t.ok(accepted > 0 && tally.size > 8, `${accepted} accepted, ${tally.size} different answers`);
  // The worker still serves after all of it.
  const served = await send(server, 'keep.localhost');
  t.equal(served.status, 200);
});

t.test('uploads over the body limit are answered 413 on a keep-alive connection', async (t) => {
  const before = await snapshot(server);
  const answers: string[] = [];
  for (let i = 0; i < 20; i++) {
    const big = i % 2 === 1;
    const body = new Uint8Array(big ? MAX_SCRIPT + OVERHEAD + 1 : 100).fill(120);
    try {
      // One shared keep-alive connection, as a client would use (not put(), which isolates oversize uploads).
      const reply = await admin(server, 'PUT', '/v1/workers/keep', { body, headers: { 'content-type': 'application/javascript' } });
      answers.push(String(reply.status));
    } catch (error) {
      answers.push(`${big ? 'big' : 'small'}: ${(error as Error).message}`);
    }
  }
  const lost = answers.filter((a) => !/^\d+$/.test(a));
  t.equal(lost.length, 0, `every upload got an answer (${lost.length} of 20 did not: ${lost.slice(0, 2).join('; ')})`);
  t.ok(answers.every((a) => a === '413' || a === '400' || !/^\d+$/.test(a)), `never a 5xx or 2xx: ${answers.join(' ')}`);
  t.equal(await snapshot(server), before, 'store unchanged');
});

t.test('hand-picked module names that must never reach the store', async (t) => {
  for (const name of ['../evil.js', '/etc/passwd', 'a/../../b.js', 'nul\u0000.js', 'back\\slash.js', 'x'.repeat(257)]) {
    const before = await snapshot(server);
    const body = multipart('Bnd', [
      { name: 'metadata', filename: null, content: bytes(JSON.stringify(validMetadata)) },
      { name: 'main.js', type: 'application/javascript+module', content: bytes(goodModule('named')) },
      { name, type: 'text/plain', content: bytes('payload') },
    ]);
    const reply = await put({ label: name, name: 'keep', contentType: 'multipart/form-data; boundary=Bnd', body });
    t.equal(reply.status, 400, `${JSON.stringify(name.slice(0, 20))}: ${reply.text.slice(0, 200)}`);
    t.ok(['ISO_ERR_DEPLOY_MODULE_NAME', 'ISO_ERR_DEPLOY_MULTIPART'].includes(reply.json().error.code), reply.json().error.code);
    t.equal(await snapshot(server), before, 'store unchanged');
  }
  const dup = multipart('Bnd', [
    { name: 'metadata', filename: null, content: bytes(JSON.stringify(validMetadata)) },
    { name: 'main.js', type: 'application/javascript+module', content: bytes(goodModule('a')) },
    { name: './main.js', type: 'application/javascript+module', content: bytes(goodModule('b')) },
  ]);
  const reply = await put({ label: 'dup', name: 'keep', contentType: 'multipart/form-data; boundary=Bnd', body: dup });
  t.equal(reply.json().error?.code, 'ISO_ERR_DEPLOY_MODULE_NAME', 'main.js and ./main.js are the same module, uploaded twice');
});

t.test('concurrent uploads to one name: all answer, one wins whole, no orphans', async (t) => {
  const tags = Array.from({ length: 8 }, (_, i) => `race-${i}`);
  const uploads = [...tags.map((tag) => validUpload(tag, 'race')), { ...validUpload('bad', 'race'), body: bytes('garbage'), valid: false }];
  const replies = await Promise.all(uploads.map((u) => put(u)));
  const ok = replies.filter((r) => r.status === 200 || r.status === 201);
  t.equal(ok.length, 8, `every valid upload answered 2xx (${replies.map((r) => r.status).join(' ')})`);
  t.ok(replies.every((r) => r.status < 500), 'no 5xx');
  const worker = (await admin(server, 'GET', '/v1/workers/race')).json();
  const versions = new Set(ok.map((r) => r.json().version as string));
  t.ok(versions.has(worker.activeVersion), 'the active version is one of the uploads');
  const served = await send(server, 'race.localhost');
  t.ok(tags.includes(served.text), `serves one upload whole: ${served.text}`);
  t.equal(served.text, tags[ok.findIndex((r) => r.json().version === worker.activeVersion)], 'the body belongs to the active version');
  const files = readdirSync(join(server.dataDir, 'workers', 'race', 'versions')).sort();
  t.same(files, [...worker.versions].map((id: string) => `${id}.json`).sort(), 'the version files are exactly the kept versions (no orphans, no temp files)');
});

t.test('wrong tokens: one status and body whatever the wrong token, and the lockout', async (t) => {
  const fresh = await startServer(t, { args: ['--executors', '1'] });
  const tries: [string, string | null][] = [
    ['same length', 'x'.repeat(TOKEN.length)],
    ['same length, one char off', TOKEN.slice(0, -1) + (TOKEN.endsWith('n') ? 'm' : 'n')],
    ['shorter', TOKEN.slice(0, 4)],
    ['longer', TOKEN + 'x'],
    ['10 KB', 'y'.repeat(10_000)],
    ['prefix of the right one', TOKEN.slice(0, -1)],
  ];
  const answers: { label: string; status: number; text: string }[] = [];
  for (const [label, token] of tries) {
    const res = await admin(fresh, 'PUT', '/v1/workers/keep', { token, body: goodModule('x'), headers: { 'content-type': 'application/javascript' } });
    answers.push({ label, status: res.status, text: res.text });
  }
  for (const a of answers) t.equal(a.status, 401, `${a.label}: 401`);
  t.equal(new Set(answers.map((a) => a.text)).size, 1, `one body for every wrong token: ${answers[0]!.text}`);
  t.equal(JSON.parse(answers[0]!.text).error.code, 'ISO_ERR_AUTH_INVALID');

  const missing = await admin(fresh, 'PUT', '/v1/workers/keep', { token: null, body: goodModule('x'), headers: { 'content-type': 'application/javascript' } });
  t.equal(missing.status, 401, 'a missing token: the same status');
  t.equal(missing.json().error.code, 'ISO_ERR_AUTH_MISSING', 'and the documented code of its own (docs/errors.md)');
  const basic = await admin(fresh, 'GET', '/v1/workers', { token: null, headers: { authorization: `Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}` } });
  t.equal(basic.status, 401, 'another scheme is refused');
  t.equal((await admin(fresh, 'GET', '/v1/workers')).status, 200, 'the right token still works after 8 failures');
  t.same(JSON.parse((await admin(fresh, 'GET', '/v1/workers')).text).workers, [], 'nothing was deployed by the wrong tokens');

  // Two more failures reach ten: now every answer is the same 429, right token included.
  await admin(fresh, 'GET', '/v1/workers', { token: 'z' });
  await admin(fresh, 'GET', '/v1/workers', { token: 'zz' });
  const lockedRight = await admin(fresh, 'GET', '/v1/workers');
  const lockedWrong = await admin(fresh, 'GET', '/v1/workers', { token: 'x'.repeat(TOKEN.length) });
  const lockedMissing = await admin(fresh, 'GET', '/v1/workers', { token: null });
  t.same([lockedRight.status, lockedWrong.status, lockedMissing.status], [429, 429, 429], 'locked out: 429 for every token');
  t.equal(lockedRight.json().error.code, 'ISO_ERR_AUTH_RATE_LIMITED');
  t.equal(lockedRight.json().error.code, lockedWrong.json().error.code);
});
