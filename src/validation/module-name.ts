/** Module names of an upload: relative POSIX paths inside the worker, never leaving it. */
import { IsolaneError } from '../errors.ts';

const MAX_NAME_LENGTH = 256;

/** Returns the normalised name (`./a.js` → `a.js`) or throws ISO_ERR_DEPLOY_MODULE_NAME. */
export function checkModuleName(name: string): string {
  const reject = (why: string) => new IsolaneError('ISO_ERR_DEPLOY_MODULE_NAME', `invalid module name ${JSON.stringify(name)}: ${why}`, { details: { module: name } });
  if (name.length === 0) throw reject('it is empty');
  if (name.length > MAX_NAME_LENGTH) throw reject(`it is longer than ${MAX_NAME_LENGTH} characters`);
  if (/[\x00-\x1f\x7f\\]/.test(name)) throw reject('it contains control characters or a backslash');
  if (name.startsWith('/')) throw reject('it must be relative, not start with "/"');
  const segments = name.split('/').filter((segment, i) => !(i === 0 && segment === '.'));
  if (segments.some((s) => s === '..')) throw reject('it must not contain ".." segments');
  if (segments.some((s) => s === '' || s === '.')) throw reject('it has an empty or "." segment');
  return segments.join('/');
}
