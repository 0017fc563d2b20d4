import t from 'tap';
import { responseHead } from '../../src/http/response-head.ts';

t.test('the host frames the response: length from the body, hop-by-hop headers dropped', async (t) => {
  t.same(responseHead(['content-type', 'text/plain', 'content-length', '2', 'transfer-encoding', 'chunked', 'connection', 'close', 'x-a', '1'], 200, 5), [
    'content-type', 'text/plain', 'x-a', '1', 'content-length', '5',
  ]);
  t.same(responseHead(['set-cookie', 'a=1', 'set-cookie', 'b=2'], 302, 0), ['set-cookie', 'a=1', 'set-cookie', 'b=2', 'content-length', '0']);
  t.same(responseHead(['etag', '"x"'], 304, 0), ['etag', '"x"'], 'no length on 304');
  t.same(responseHead([], 204, 0), []);
});
