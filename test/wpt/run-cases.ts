/**
 * Runs WPT data through the runtime bundle inside a real isolate (not Node's own URL or atob): the
 * check function and a batch of cases go in as code, the failures come back as JSON.
 */
import { Evaluator } from '../runtime/harness.ts';

export interface CaseFailure {
  index: number;
  input: unknown;
  why: string;
}

/**
 * `check` is the source of `(testCase) => string | null` (or a promise of it, awaited), run inside the
 * isolate: null when the case passes, else why it failed. Cases run in batches so no single invocation gets long.
 */
export function runCases(evaluator: Evaluator, cases: unknown[], check: string, batch = 100): CaseFailure[] {
  const failures: CaseFailure[] = [];
  for (let start = 0; start < cases.length; start += batch) {
    const slice = cases.slice(start, start + batch);
    const result = evaluator.run(`
      const check = ${check};
      const cases = ${JSON.stringify(slice)};
      const failures = [];
      for (let i = 0; i < cases.length; i++) {
        const testCase = cases[i];
        let why;
        try { why = await check(testCase); } catch (error) { why = 'threw ' + (error && error.name) + ': ' + (error && error.message); }
        if (why) failures.push({ index: ${start} + i, input: testCase && typeof testCase === 'object' && 'input' in testCase ? testCase.input : testCase, why });
      }
      return failures;
    `) as CaseFailure[];
    failures.push(...result);
  }
  return failures;
}
