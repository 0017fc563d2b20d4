/**
 * Node's errors as the runtime's Node.js modules throw them: an Error of Node's kind with Node's `code`
 * (ERR_INVALID_ARG_TYPE, ERR_OUT_OF_RANGE, ...). Each module's chunk bundles its own copy of these few
 * lines, so the chunks stay independent of one another.
 */

export function nodeError(Kind: typeof Error, code: string, message: string): Error {
  return Object.assign(new Kind(message), { code });
}

/** Node's check of an argument that must be a function (ERR_INVALID_ARG_TYPE). */
export function checkFunction(value: unknown, name: string): asserts value is (...args: unknown[]) => unknown {
  if (typeof value !== 'function') throw nodeError(TypeError, 'ERR_INVALID_ARG_TYPE', `The "${name}" argument must be of type function. Received ${value === null ? 'null' : typeof value}`);
}
