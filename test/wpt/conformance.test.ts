/**
 * web-platform-tests data (test/fixtures/wpt/) run through the runtime inside a real isolate: URL
 * parsing, URL setters, IDNA toASCII, atob's forgiving-base64 and URLPattern. Prints the pass count per file and
 * fails when it drops below test/wpt/expectations.json or a case not listed as a known failure fails.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { Evaluator } from '../runtime/harness.ts';
import { ATOB, URL_PARSING, URL_PATTERN, URL_SETTERS, URL_TOASCII } from './checks.ts';
import { runCases } from './run-cases.ts';

interface Expectation {
  total: number;
  passing: number;
  knownFailures: { index: number; reason: string }[];
}

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'wpt');
const load = (file: string): unknown => JSON.parse(readFileSync(join(FIXTURES, file), 'utf8'));
const expectations = JSON.parse(readFileSync(join(import.meta.dirname, 'expectations.json'), 'utf8')) as Record<string, Expectation>;
const objects = (list: unknown) => (list as unknown[]).filter((c) => typeof c === 'object' && c !== null);

const suites: [file: string, cases: () => unknown[], check: string][] = [
  ['url/resources/urltestdata.json', () => objects(load('url/resources/urltestdata.json')), URL_PARSING],
  [
    'url/resources/setters_tests.json',
    () =>
      Object.entries(load('url/resources/setters_tests.json') as Record<string, unknown[]>)
        .filter(([setter]) => setter !== 'comment')
        .flatMap(([setter, list]) => (list as object[]).map((c) => ({ ...c, setter }))),
    URL_SETTERS,
  ],
  ['url/resources/toascii.json', () => objects(load('url/resources/toascii.json')), URL_TOASCII],
  ['fetch/data-urls/resources/base64.json', () => load('fetch/data-urls/resources/base64.json') as unknown[], ATOB],
  ['urlpattern/resources/urlpatterntestdata.json', () => load('urlpattern/resources/urlpatterntestdata.json') as unknown[], URL_PATTERN],
];

const evaluator = await Evaluator.create();
t.teardown(() => evaluator.dispose());

for (const [file, cases, check] of suites) {
  t.test(file, async (t) => {
    const expected = expectations[file]!;
    const all = cases();
    const failures = runCases(evaluator, all, check, 50);
    const known = new Set(expected.knownFailures.map((f) => f.index));
    const passing = all.length - failures.length;
    t.comment(`${file}: ${passing} of ${all.length} pass (${expected.knownFailures.length} known failures)`);
    t.equal(all.length, expected.total, 'the data file has the cases the expectation was made for');
    t.ok(passing >= expected.passing, `${passing} passing, expected at least ${expected.passing}`);
    for (const failure of failures.filter((f) => !known.has(f.index))) {
      t.fail(`case ${failure.index} ${JSON.stringify(failure.input)}: ${failure.why}`);
    }
  });
}
