/**
 * One crypto.subtle operation on the host (bridge op 'subtle'; the shape of `call` is documented in
 * src/isolates/host-crypto.ts). `call` must be a null-prototype object of strings and numbers, so
 * JSON.stringify finds no `toJSON` a worker may have put on Object.prototype. The host answers at once;
 * its error ("Name: message") becomes a DOMException thrown here.
 */
import { hostSubtle } from '../bridge.ts';
import { JSONStringify, StringPrototypeIndexOf, StringPrototypeSlice } from '../primordials.ts';
import { errorName, fail } from './errors.ts';

export interface HostAnswer {
  /** The host's JSON answer ('' when it answered with bytes only). */
  json: string;
  buffers: ArrayBuffer[];
}

export function subtleCall(call: object, buffers: ArrayBuffer[]): HostAnswer {
  const answer = hostSubtle(JSONStringify(call), buffers);
  const error = answer[0];
  if (error !== '') {
    const colon = StringPrototypeIndexOf(error, ': ');
    if (colon === -1) fail('OperationError', error);
    fail(errorName(StringPrototypeSlice(error, 0, colon)), StringPrototypeSlice(error, colon + 2));
  }
  return { json: answer[1], buffers: answer[2] };
}
