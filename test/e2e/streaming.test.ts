/**
 * Streaming end to end, over real HTTP: response bodies reach the client as the worker produces them
 * (with backpressure), request bodies reach the worker as they arrive, and both have per-worker size
 * limits with a logged outcome.
 */
import { connect, type Socket } from 'node:net';
import t from 'tap';
import { request } from 'undici';
import { deployMultipart, send, startServer, type TestServer } from '../helpers/server.ts';

const server = await startServer(t);

async function deploy(name: string, source: string, limits: Record<string, number> = {}): Promise<void> {
  const reply = await deployMultipart(server, name, { main_module: 'main.js', limits }, { 'main.js': source });
  if (reply.status !== 201) throw new Error(reply.text);
}

function recordOf(s: TestServer, worker: string) {
  return s.record((l) => l.type === 'invocation' && l.worker === worker);
}

/** A raw connection to the data plane, for what undici hides: half-sent bodies, unread responses. */
function rawConnection(): Promise<Socket> {
  const { port } = new URL(server.dataUrl);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port: Number(port) }, () => resolve(socket));
    socket.once('error', reject);
  });
}

t.test('a response stream reaches the client chunk by chunk, as the worker enqueues', async (t) => {
  await deploy(
    'ticker',
    `export default {
      fetch() {
        let n = 0;
        return new Response(new ReadableStream({
          async pull(controller) {
            await new Promise((r) => setTimeout(r, 100));
            controller.enqueue(new TextEncoder().encode('tick' + n));
            if (++n === 5) controller.close();
          },
        }, { highWaterMark: 0 }), { headers: { 'content-type': 'text/plain' } });
      },
    }`,
  );
  const started = performance.now();
  const res = await request(`${server.dataUrl}/`, { headers: { host: 'ticker.localhost' } });
  const headersAt = performance.now() - started;
  t.equal(res.statusCode, 200);
  t.equal(res.headers['transfer-encoding'], 'chunked', 'no Content-Length: the length is not known up front');
  const arrivals: [string, number][] = [];
  for await (const chunk of res.body) arrivals.push([String(chunk), performance.now() - started]);
  t.ok(arrivals[0]![1] - headersAt > 50, `status and headers came ${(arrivals[0]![1] - headersAt).toFixed(0)} ms before the first chunk`);
  t.same(arrivals.map(([text]) => text), ['tick0', 'tick1', 'tick2', 'tick3', 'tick4'], 'one read per chunk enqueued');
  for (let i = 1; i < arrivals.length; i++) {
    const gap = arrivals[i]![1] - arrivals[i - 1]![1];
    t.ok(gap > 50, `chunk ${i} came ${gap.toFixed(0)} ms after the one before`);
  }
  const record = await recordOf(server, 'ticker');
  t.equal(record.outcome, 'ok');
  t.equal(record.bytesOut, 25);
});

t.test('server-sent events', async (t) => {
  await deploy(
    'sse',
    `export default {
      fetch() {
        const { readable, writable } = new TransformStream();
        const writer = writable.getWriter();
        const encoder = new TextEncoder();
        (async () => {
          for (let i = 1; i <= 3; i++) {
            await writer.write(encoder.encode('id: ' + i + '\\nevent: count\\ndata: {"n":' + i + '}\\n\\n'));
            await new Promise((r) => setTimeout(r, 50));
          }
          await writer.close();
        })();
        return new Response(readable, { headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' } });
      },
    }`,
  );
  const res = await request(`${server.dataUrl}/`, { headers: { host: 'sse.localhost', accept: 'text/event-stream' } });
  t.equal(res.headers['content-type'], 'text/event-stream');
  let buffer = '';
  const events: { id: string; event: string; data: unknown; at: number }[] = [];
  const started = performance.now();
  for await (const chunk of res.body) {
    buffer += String(chunk);
    let end: number;
    while ((end = buffer.indexOf('\n\n')) !== -1) {
      const fields = Object.fromEntries(buffer.slice(0, end).split('\n').map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 2)]));
      events.push({ id: fields.id, event: fields.event, data: JSON.parse(fields.data), at: performance.now() - started });
      buffer = buffer.slice(end + 2);
    }
  }
  t.same(events.map(({ id, event, data }) => ({ id, event, data })), [1, 2, 3].map((n) => ({ id: String(n), event: 'count', data: { n } })));
  t.ok(events[2]!.at - events[0]!.at > 60, 'the events came apart, as they were written');
});

t.test('backpressure: a client that does not read holds the worker back, not the host memory', async (t) => {
  await deploy(
    'firehose',
    `export default {
      fetch(request) {
        let chunks = 0;
        request.signal.addEventListener('abort', () => console.log('aborted after ' + chunks + ' chunks'));
        return new Response(new ReadableStream({
          pull(controller) {
            chunks++;
            controller.enqueue(new Uint8Array(256 * 1024));
          },
          cancel(reason) { console.log('firehose cancelled: ' + reason.name) },
        }, { highWaterMark: 0 }));
      },
    }`,
    { cpu_ms: 5000, wall_ms: 60000 },
  );
  const socket = await rawConnection();
  socket.write('GET / HTTP/1.1\r\nhost: firehose.localhost\r\n\r\n');
  // Read nothing for a second, then go away.
  socket.pause();
  await new Promise((r) => setTimeout(r, 1000));
  socket.destroy();
  const record = await recordOf(server, 'firehose');
  t.equal(record.outcome, 'responseStreamDisconnected');
  t.ok((record.bytesOut as number) < 32 * 1024 * 1024, `${((record.bytesOut as number) / 1048576).toFixed(1)} MiB handed to the connection in a second of not reading`);
  t.ok((record.cpuUs as number) < 500_000, `the waiting worker used ${record.cpuUs} µs of CPU`);
  const log = await server.record((l) => l.type === 'console' && String(l.message).startsWith('aborted after'));
  t.match(log.message, /aborted after \d+ chunks/, "the request's signal aborted when the client went away");
  const cancelled = await server.record((l) => l.type === 'console' && String(l.message).startsWith('firehose cancelled'));
  t.equal(cancelled.message, 'firehose cancelled: AbortError', "the paused body's source was cancelled, as a stream piped to a closed destination is");
});

t.test('a client that goes away mid-stream cancels the body stream: its source stops being read', async (t) => {
  await deploy(
    'tick-cancel',
    `export default {
      fetch() {
        let n = 0;
        return new Response(new ReadableStream({
          async pull(controller) {
            await scheduler.wait(20);
            controller.enqueue(new TextEncoder().encode('tick ' + n++ + '\\n'));
          },
          cancel(reason) { console.log('tick-cancel cancelled after ' + n + ' ticks: ' + reason.name) },
        }));
      },
    }`,
  );
  const socket = await rawConnection();
  socket.write('GET / HTTP/1.1\r\nhost: tick-cancel.localhost\r\n\r\n');
  let received = '';
  await new Promise<void>((resolve) => socket.on('data', (data: Buffer) => (received += data.toString()).includes('tick 2') && resolve()));
  socket.destroy();
  const record = await recordOf(server, 'tick-cancel');
  t.equal(record.outcome, 'responseStreamDisconnected');
  const cancelled = await server.record((l) => l.type === 'console' && String(l.message).startsWith('tick-cancel cancelled'));
  t.match(cancelled.message, /^tick-cancel cancelled after \d+ ticks: AbortError$/);
  t.ok((record.wallMs as number) < 2000, `the invocation ended once the client left (${record.wallMs} ms)`);
});

t.test('a client that leaves mid-upload fails the reads of its body, and the waitUntil() reading it ends', async (t) => {
  await deploy(
    'body-gone',
    `export default {
      async fetch(request, env, ctx) {
        ctx.waitUntil(request.text().then((t) => console.log('body-gone: read ' + t.length), (e) => console.log('body-gone: ' + e.name)));
        await scheduler.wait(5000);
        return new Response('late');
      },
    }`,
  );
  const socket = await rawConnection();
  socket.write('POST / HTTP/1.1\r\nhost: body-gone.localhost\r\ncontent-length: 1000000\r\n\r\n' + 'x'.repeat(100));
  await new Promise((r) => setTimeout(r, 300));
  socket.destroy();
  const record = await recordOf(server, 'body-gone');
  t.equal(record.outcome, 'canceled');
  t.ok((record.wallMs as number) < 5000, `it ended once the read failed, not at the wall-time limit (${record.wallMs} ms)`);
  t.ok(await server.record((l) => l.type === 'console' && l.message === 'body-gone: TypeError'), "the body's read failed with a TypeError");
});

t.test('a fast client gets the whole of a body whose source pauses between bursts', async (t) => {
  // Bursts of 75 KB: the host's room runs out on a flush while the next read waits on a timer, and its
  // one pull comes before the timer fires.
  await deploy(
    'bursts',
    `export default {
      fetch() {
        let round = 0;
        return new Response(new ReadableStream({
          async pull(c) {
            if (round > 0) await scheduler.wait(200);
            for (let i = 0; i < 5; i++) {
              c.enqueue(new Uint8Array(15000).fill(65 + round));
              for (let j = 0; j < 20; j++) await null;
            }
            if (++round === 3) c.close();
          },
        }, { highWaterMark: 0 }));
      },
    }`,
  );
  const res = await request(`${server.dataUrl}/`, { headers: { host: 'bursts.localhost' } });
  const bytes = (await res.body.arrayBuffer()).byteLength;
  t.equal(bytes, 3 * 5 * 15000);
  t.equal((await recordOf(server, 'bursts')).outcome, 'ok');
});

t.test("a client that goes away: the response is cancelled, its waitUntil() work goes on, as on Workers", async (t) => {
  await deploy(
    'after-leaving',
    `export default {
      async fetch(request, env, ctx) {
        request.signal.addEventListener('abort', () => console.log('after-leaving: signal aborted'));
        ctx.waitUntil(scheduler.wait(400).then(() => console.log('after-leaving: waitUntil finished')));
        await scheduler.wait(10000);
        return new Response('too late');
      },
    }`,
  );
  const socket = await rawConnection();
  socket.write('GET / HTTP/1.1\r\nhost: after-leaving.localhost\r\n\r\n');
  await new Promise((r) => setTimeout(r, 100));
  socket.destroy();
  t.ok(await server.record((l) => l.type === 'console' && l.message === 'after-leaving: signal aborted'), "the request's signal aborted");
  t.ok(await server.record((l) => l.type === 'console' && l.message === 'after-leaving: waitUntil finished'), 'the waitUntil() work ran to its end');
  const record = await recordOf(server, 'after-leaving');
  t.equal(record.outcome, 'canceled', 'the record says the client went away');
  t.ok((record.wallMs as number) >= 380 && (record.wallMs as number) < 5000, `and ends with the waitUntil() work, not the handler (${record.wallMs} ms)`);
});

t.test('a request body reaches the worker as it arrives: answers stream back before the upload ends', async (t) => {
  await deploy(
    'duplex',
    `export default {
      fetch(request) {
        const reader = request.body.getReader();
        const decoder = new TextDecoder();
        return new Response(new ReadableStream({
          async pull(controller) {
            const { done, value } = await reader.read();
            if (done) controller.close();
            else controller.enqueue(new TextEncoder().encode('pong:' + decoder.decode(value) + ';'));
          },
        }, { highWaterMark: 0 }));
      },
    }`,
  );
  const socket = await rawConnection();
  let received = '';
  socket.on('data', (chunk) => (received += chunk.toString('latin1')));
  const waitFor = async (text: string) => {
    for (let i = 0; i < 200 && !received.includes(text); i++) await new Promise((r) => setTimeout(r, 10));
    return received.includes(text);
  };
  socket.write('POST / HTTP/1.1\r\nhost: duplex.localhost\r\ntransfer-encoding: chunked\r\n\r\n');
  for (const word of ['ping1', 'ping2', 'ping3']) {
    socket.write(`${word.length.toString(16)}\r\n${word}\r\n`);
    t.ok(await waitFor(`pong:${word};`), `the answer to ${word} came back while the upload is still open`);
  }
  socket.write('0\r\n\r\n');
  t.ok(await waitFor('\r\n0\r\n\r\n'), 'the response ends after the upload does');
  socket.destroy();
  t.equal((await recordOf(server, 'duplex')).outcome, 'ok');
});

t.test('a large upload is streamed: 24 MiB into a worker with 16 MB of memory', async (t) => {
  await deploy(
    'counter',
    `export default {
      async fetch(request) {
        let bytes = 0, chunks = 0;
        for await (const chunk of request.body) { bytes += chunk.byteLength; chunks++; }
        return Response.json({ bytes, chunks });
      },
    }`,
    { memory_mb: 16, cpu_ms: 5000 },
  );
  const size = 24 * 1024 * 1024;
  const reply = await send(server, 'counter.localhost', '/', { method: 'POST', body: new Uint8Array(size) });
  t.equal(reply.status, 200, reply.text);
  t.equal(reply.json().bytes, size);
  t.ok(reply.json().chunks > 10, `${reply.json().chunks} chunks`);
  const record = await recordOf(server, 'counter');
  t.equal(record.bytesIn, size);
  t.ok((record.peakMemoryBytes as number) < 16 * 1024 * 1024, `peak isolate memory ${(record.peakMemoryBytes as number) >> 20} MiB`);
});

t.test('request_bytes: 413 for a declared length over the limit, and for a chunked body that grows past it', async (t) => {
  await deploy('small-in', `export default { async fetch(request) { return new Response(String((await request.arrayBuffer()).byteLength)); } }`, { request_bytes: 100_000 });
  const fits = await send(server, 'small-in.localhost', '/', { method: 'POST', body: new Uint8Array(100_000) });
  t.equal(fits.status, 200);
  t.equal(fits.text, '100000');
  const declared = await send(server, 'small-in.localhost', '/', { method: 'POST', body: new Uint8Array(100_001) });
  t.equal(declared.status, 413);
  t.equal(declared.json().error.code, 'ISO_ERR_HTTP_BODY_TOO_LARGE');

  const socket = await rawConnection();
  let received = '';
  socket.on('data', (chunk) => (received += chunk.toString('latin1')));
  const closed = new Promise((resolve) => socket.on('close', resolve));
  socket.on('error', () => {});
  socket.write('POST / HTTP/1.1\r\nhost: small-in.localhost\r\ntransfer-encoding: chunked\r\n\r\n');
  const chunk = Buffer.alloc(60_000, 97);
  socket.write(`${chunk.length.toString(16)}\r\n`);
  socket.write(chunk);
  socket.write(`\r\n${chunk.length.toString(16)}\r\n`);
  socket.write(chunk);
  socket.write('\r\n');
  await closed;
  t.match(received, /^HTTP\/1\.1 413 /, 'the host answered 413 once the body passed the limit');
  t.match(received, /ISO_ERR_HTTP_BODY_TOO_LARGE/);
  t.equal((await server.record((l) => l.type === 'invocation' && l.worker === 'small-in' && l.outcome !== 'ok')).outcome, 'requestTooLarge');
});

t.test('request_bytes still holds for a body the worker never read: past it the connection is closed', async (t) => {
  await deploy('ignores-body', `export default { fetch() { return new Response('answered') } }`, { request_bytes: 100_000 });
  const socket = await rawConnection();
  let received = '';
  socket.on('data', (chunk) => (received += chunk.toString('latin1')));
  const closed = new Promise((resolve) => socket.on('close', resolve));
  socket.on('error', () => {});
  socket.write('POST / HTTP/1.1\r\nhost: ignores-body.localhost\r\ntransfer-encoding: chunked\r\n\r\n');
  const chunk = Buffer.alloc(64 * 1024, 97);
  // Well past the limit, a chunk at a time, after the worker answered.
  for (let i = 0; i < 64 && !socket.destroyed; i++) {
    socket.write(`${chunk.length.toString(16)}\r\n`);
    socket.write(chunk);
    socket.write('\r\n');
    await new Promise((r) => setTimeout(r, 5));
  }
  const ended = await Promise.race([closed.then(() => 'closed'), new Promise((r) => setTimeout(() => r('still open'), 3000))]);
  t.equal(ended, 'closed', 'the host closed the connection instead of reading 4 MiB for nothing');
  t.match(received, /^HTTP\/1\.1 200 /, 'the answer went out first');
  t.match(received, /answered/);
});

t.test('response_bytes: a whole body over the limit is a 500, a stream is cut short; both are logged', async (t) => {
  await deploy(
    'big-out',
    `export default {
      fetch(request) {
        if (new URL(request.url).pathname === '/whole') return new Response('x'.repeat(200_000));
        let sent = 0;
        return new Response(new ReadableStream({
          pull(controller) {
            sent += 64 * 1024;
            controller.enqueue(new Uint8Array(64 * 1024));
            if (sent >= 1024 * 1024) controller.close();
          },
        }));
      },
    }`,
    { response_bytes: 100_000 },
  );
  const whole = await send(server, 'big-out.localhost', '/whole');
  t.equal(whole.status, 500);
  t.equal(whole.json().error.code, 'ISO_ERR_WORKER_RESPONSE_TOO_LARGE');
  const wholeRecord = await recordOf(server, 'big-out');
  t.equal(wholeRecord.outcome, 'responseTooLarge');

  const res = await request(`${server.dataUrl}/stream`, { headers: { host: 'big-out.localhost' } });
  t.equal(res.statusCode, 200, 'the status went out before the body grew too large');
  let got = 0;
  const error = await (async () => {
    try {
      for await (const chunk of res.body) got += (chunk as Buffer).length;
      return null;
    } catch (err) {
      return err as Error;
    }
  })();
  t.ok(error, `the client sees the body end abruptly (${error?.message}) after ${got} bytes`);
  t.ok(got <= 100_000, 'no more than the limit was sent');
  const streamRecord = await server.record((l) => l.type === 'invocation' && l.worker === 'big-out' && l.requestId !== wholeRecord.requestId);
  t.equal(streamRecord.outcome, 'responseTooLarge');
  await server.record((l) => l.type === 'console' && l.worker === 'big-out' && /response_bytes limit/.test(String(l.message)));
});

t.test('a stream that errors midway cuts the response short and logs the error', async (t) => {
  await deploy(
    'breaks',
    `export default {
      fetch() {
        return new Response(new ReadableStream({
          start(controller) {
            controller.enqueue(new TextEncoder().encode('partial'));
            setTimeout(() => controller.error(new Error('upstream went away')), 20);
          },
        }));
      },
    }`,
  );
  const res = await request(`${server.dataUrl}/`, { headers: { host: 'breaks.localhost' } });
  t.equal(res.statusCode, 200);
  await t.rejects(res.body.text(), 'the body does not end cleanly');
  t.equal((await recordOf(server, 'breaks')).outcome, 'exception');
  await server.record((l) => l.type === 'console' && l.worker === 'breaks' && /upstream went away/.test(String(l.message)));
});

t.test('HEAD: the length a GET would get, no body, and the connection stays open', async (t) => {
  await deploy('heady', `export default { fetch() { return new Response('twelve bytes') } }`);
  const socket = await rawConnection();
  let received = '';
  socket.on('data', (chunk) => (received += chunk.toString('latin1')));
  socket.write('HEAD / HTTP/1.1\r\nhost: heady.localhost\r\n\r\n');
  for (let i = 0; i < 100 && !received.includes('\r\n\r\n'); i++) await new Promise((r) => setTimeout(r, 10));
  t.match(received, /^HTTP\/1\.1 200 /);
  t.match(received, /content-length: 12\r\n/i);
  t.notMatch(received, /connection: close/i);
  received = '';
  socket.write('GET / HTTP/1.1\r\nhost: heady.localhost\r\n\r\n');
  for (let i = 0; i < 100 && !received.endsWith('twelve bytes'); i++) await new Promise((r) => setTimeout(r, 10));
  t.ok(received.endsWith('twelve bytes'), 'a GET on the same connection is answered');
  socket.destroy();
});

t.test('a streamed request body piped into crypto.DigestStream is hashed as it arrives', async (t) => {
  const { createHash, randomBytes } = await import('node:crypto');
  const reply = await deployMultipart(server, 'hasher', { main_module: 'main.js', limits: { memory_mb: 16, cpu_ms: 2000 } }, { 'main.js': `export default { async fetch(request) {
    const digest = new crypto.DigestStream('SHA-256');
    await request.body.pipeTo(digest);
    return new Response([...new Uint8Array(await digest.digest)].map((b) => b.toString(16).padStart(2, '0')).join(''));
  } }` });
  t.equal(reply.status, 201, reply.text);
  // 30 MiB (under the default request limit) through a 16 MB worker: hashed on the host, chunk by chunk, not held.
  const body = randomBytes(30 * 1024 * 1024);
  const answer = await send(server, 'hasher.localhost', '/', { method: 'POST', body });
  t.equal(answer.status, 200, answer.text);
  t.equal(answer.text, createHash('sha256').update(body).digest('hex'));
});
