import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { ERROR_CODES, IsolaneError } from '../src/errors.ts';

const doc = readFileSync(join(import.meta.dirname, '..', 'docs', 'errors.md'), 'utf8');

t.test('docs/errors.md lists every code with its status, and no code that does not exist', async (t) => {
  for (const [code, { status }] of Object.entries(ERROR_CODES)) {
    t.match(doc, new RegExp(`\\| \`${code}\` \\| ${status} \\|`), code);
  }
  const documented = [...doc.matchAll(/`(ISO_ERR_[A-Z_]+)`/g)].map((m) => m[1]);
  for (const code of documented) t.ok(code! in ERROR_CODES, `${code} is a real code`);
});

t.test('IsolaneError carries code, status and a JSON body', async (t) => {
  const err = new IsolaneError('ISO_ERR_DEPLOY_SYNTAX', 'main.js:1:5: Unexpected token', { details: { line: 1 } });
  t.equal(err.code, 'ISO_ERR_DEPLOY_SYNTAX');
  t.equal(err.status, 400);
  t.same(err.toJSON(), { error: { code: 'ISO_ERR_DEPLOY_SYNTAX', message: 'main.js:1:5: Unexpected token', line: 1 } });
  t.equal(new IsolaneError('ISO_ERR_AUTH_MISSING').message, ERROR_CODES.ISO_ERR_AUTH_MISSING.message);
});
