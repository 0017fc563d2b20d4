import t from 'tap';
import { TestWorker } from './harness.ts';

t.test("WebSocketPair and WebSocket refuse what Workers refuses, with clear errors", async (t) => {
  const w = await TestWorker.create();
  t.teardown(() => w.dispose());
  w.deployModule(`export default { fetch() {
    const errors = {};
    const attempt = (name, fn) => { try { fn(); errors[name] = 'no error' } catch (e) { errors[name] = e.constructor.name + ': ' + e.message } };
    attempt('outbound', () => new WebSocket('wss://example.com/'));
    const pair = new WebSocketPair();
    attempt('sendBeforeAccept', () => pair[1].send('x'));
    pair[1].accept();
    attempt('acceptTwice', () => pair[1].accept());
    attempt('badCode', () => pair[1].close(1001));
    attempt('longReason', () => pair[1].close(1000, 'x'.repeat(124)));
    attempt('sendBlob', () => pair[1].send({}));
    attempt('status200', () => new Response(null, { status: 200, webSocket: pair[0] }));
    attempt('serverEnd', () => new Response(null, { status: 101, webSocket: pair[1] }));
    attempt('notASocket', () => new Response(null, { status: 101, webSocket: {} }));
    attempt('status101Alone', () => new Response(null, { status: 101 }));
    const ok = new Response(null, { status: 101, webSocket: pair[0] });
    attempt('usedTwice', () => new Response(null, { status: 101, webSocket: pair[0] }));
    attempt('bodyWith101', () => new Response('x', { status: 101, webSocket: new WebSocketPair()[0] }));
    pair[1].close(1000, 'ok');
    attempt('sendAfterClose', () => pair[1].send('x'));
    return Response.json({ errors, status: ok.status, same: ok.webSocket === pair[0], plain: new Response('x').webSocket });
  } }`);
  const answer = w.fetch('https://w.example/');
  const body = JSON.parse(answer.body!);
  t.match(body.errors, {
    outbound: /TypeError: Outbound WebSocket connections are not supported/,
    sendBeforeAccept: /TypeError: You must call accept\(\)/,
    acceptTwice: /TypeError: accept\(\) was already called/,
    badCode: /InvalidAccessError|close code must be 1000 or between 3000 and 4999/,
    longReason: /longer than 123 bytes/,
    sendBlob: /TypeError: WebSocket send\(\) takes a string/,
    status200: /RangeError: .*must have status 101/,
    serverEnd: /TypeError: .*server\) end/,
    notASocket: /TypeError: .*client end of a WebSocketPair/,
    status101Alone: /RangeError/,
    usedTwice: /TypeError: .*already went out/,
    bodyWith101: /TypeError/,
    sendAfterClose: /TypeError: Can't call WebSocket send\(\) after close\(\)/,
  });
  t.same([body.status, body.same, body.plain], [101, true, null]);
});
