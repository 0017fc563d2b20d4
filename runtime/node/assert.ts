/**
 * `node:assert` for workers with the nodejs_compat flag: the strict-mode assertions libraries use
 * (ok, equal/strictEqual, deepEqual/deepStrictEqual and their negations, throws, rejects, match, fail)
 * and AssertionError. Built as the `node-assert` chunk, loaded on first import; the runtime hands it
 * node:util's deep equality and inspect, from that module's chunk (runtime/node/modules.ts). `equal`
 * compares with `==`, as Node's legacy mode does (`assert.strict`, also `node:assert/strict`, has the
 * strict one); `deepEqual` is `deepStrictEqual` here (Node's loose deep comparison is not).
 */
import type { util } from './util.ts';

export function makeAssert({ inspect, isDeepStrictEqual }: Pick<typeof util, 'inspect' | 'isDeepStrictEqual'>) {
  interface AssertionErrorOptions {
    message?: string;
    actual?: unknown;
    expected?: unknown;
    operator?: string;
  }

  class AssertionError extends Error {
    readonly code = 'ERR_ASSERTION';
    readonly actual: unknown;
    readonly expected: unknown;
    readonly operator: string;
    readonly generatedMessage: boolean;

    constructor(options: AssertionErrorOptions) {
      const generated = options.message === undefined;
      super(generated ? `Expected values to satisfy ${options.operator}:\n\n${inspect(options.actual)}\n\nshould ${options.operator?.startsWith('not') ? 'not ' : ''}match\n\n${inspect(options.expected)}` : options.message);
      this.name = 'AssertionError';
      this.actual = options.actual;
      this.expected = options.expected;
      this.operator = options.operator ?? 'fail';
      this.generatedMessage = generated;
    }
  }

  type Message = string | Error | undefined;

  function fail(message: Message, actual: unknown, expected: unknown, operator: string): never {
    if (message instanceof Error) throw message;
    throw new AssertionError({ message, actual, expected, operator });
  }

  function ok(value: unknown, message?: Message): asserts value {
    if (!value) fail(message ?? 'The expression evaluated to a falsy value', value, true, '==');
  }

  function equal(actual: unknown, expected: unknown, message?: Message): void {
    // eslint-disable-next-line eqeqeq -- Node's legacy assert.equal
    if (!(actual == expected || (Number.isNaN(actual) && Number.isNaN(expected)))) fail(message, actual, expected, '==');
  }

  function notEqual(actual: unknown, expected: unknown, message?: Message): void {
    // eslint-disable-next-line eqeqeq -- Node's legacy assert.notEqual
    if (actual == expected || (Number.isNaN(actual) && Number.isNaN(expected))) fail(message, actual, expected, '!=');
  }

  function strictEqual(actual: unknown, expected: unknown, message?: Message): void {
    if (!Object.is(actual, expected)) fail(message, actual, expected, 'strictEqual');
  }

  function notStrictEqual(actual: unknown, expected: unknown, message?: Message): void {
    if (Object.is(actual, expected)) fail(message, actual, expected, 'notStrictEqual');
  }

  function deepStrictEqual(actual: unknown, expected: unknown, message?: Message): void {
    if (!isDeepStrictEqual(actual, expected)) fail(message, actual, expected, 'deepStrictEqual');
  }

  function notDeepStrictEqual(actual: unknown, expected: unknown, message?: Message): void {
    if (isDeepStrictEqual(actual, expected)) fail(message, actual, expected, 'notDeepStrictEqual');
  }

  type Expected = RegExp | Function | Record<string, unknown>;

  /** Whether `error` is what `expected` describes: a RegExp for its text, a class, a validation function, or an object of properties. */
  function matches(error: unknown, expected: Expected | undefined): boolean {
    if (expected === undefined) return true;
    if (expected instanceof RegExp) return expected.test(String(error));
    if (typeof expected === 'function') {
      if (expected.prototype !== undefined && error instanceof (expected as new () => unknown)) return true;
      if (Error.isPrototypeOf(expected)) return false;
      return (expected as (error: unknown) => unknown)(error) === true;
    }
    if (typeof error !== 'object' || error === null) return false;
    return Object.keys(expected).every((key) => {
      const want = expected[key];
      const got = (error as Record<string, unknown>)[key];
      return want instanceof RegExp && typeof got === 'string' ? want.test(got) : isDeepStrictEqual(got, want);
    });
  }

  function throws(fn: () => unknown, expected?: Expected | string, message?: Message): void {
    if (typeof expected === 'string') [message, expected] = [expected, undefined];
    try {
      fn();
    } catch (error) {
      if (!matches(error, expected)) throw error;
      return;
    }
    fail(message ?? 'Missing expected exception.', undefined, expected, 'throws');
  }

  function doesNotThrow(fn: () => unknown, message?: Message): void {
    try {
      fn();
    } catch (error) {
      fail(message ?? `Got unwanted exception.\nActual message: "${(error as Error)?.message}"`, error, undefined, 'doesNotThrow');
    }
  }

  async function rejects(promiseOrFn: Promise<unknown> | (() => Promise<unknown>), expected?: Expected | string, message?: Message): Promise<void> {
    if (typeof expected === 'string') [message, expected] = [expected, undefined];
    try {
      await (typeof promiseOrFn === 'function' ? promiseOrFn() : promiseOrFn);
    } catch (error) {
      if (!matches(error, expected)) throw error;
      return;
    }
    fail(message ?? 'Missing expected rejection.', undefined, expected, 'rejects');
  }

  function match(actual: string, expected: RegExp, message?: Message): void {
    if (typeof actual !== 'string' || !expected.test(actual)) fail(message, actual, expected, 'match');
  }

  function doesNotMatch(actual: string, expected: RegExp, message?: Message): void {
    if (typeof actual !== 'string' || expected.test(actual)) fail(message, actual, expected, 'doesNotMatch');
  }

  const assertions = {
    AssertionError,
    ok,
    equal,
    notEqual,
    strictEqual,
    notStrictEqual,
    deepEqual: deepStrictEqual,
    notDeepEqual: notDeepStrictEqual,
    deepStrictEqual,
    notDeepStrictEqual,
    throws,
    doesNotThrow,
    rejects,
    match,
    doesNotMatch,
    fail: (message?: Message) => fail(message ?? 'Failed', undefined, undefined, 'fail'),
    ifError: (value: unknown) => {
      if (value !== null && value !== undefined) throw value;
    },
  };
  const assert = Object.assign((value: unknown, message?: Message) => ok(value, message), assertions);
  // Strict mode (`assert.strict`, node:assert/strict): equal and notEqual are the strict ones.
  const strict = Object.assign((value: unknown, message?: Message) => ok(value, message), assertions, { equal: strictEqual, notEqual: notStrictEqual });
  Object.assign(assert, { strict });
  Object.assign(strict, { strict });
  /** The assert function, with every assertion on it (a plain object's worth of exports). */
  return assert;
}
