/**
 * web-platform-tests data (test/fixtures/wpt/) run through the runtime inside a real isolate: URL
 * parsing, URL setters, IDNA toASCII, atob's forgiving-base64, data: URLs through fetch(), MIME type parsing
 * (Blob/File types and Body's blob() type) and URLPattern. Prints the pass count per file and
 * fails when it drops below test/wpt/expectations.json or a case not listed as a known failure fails.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { Evaluator } from '../runtime/harness.ts';
import { ATOB, DATA_URL_BASE64, DATA_URL_FETCH, MIME_BLOB, MIME_BODY, URL_PARSING, URL_PATTERN, URL_SETTERS, URL_TOASCII } from './checks.ts';
import { runCases } from './run-cases.ts';

interface Expectation {
  total: number;
  passing: number;
  /** Each by case index (`index`), or several with one reason (`indices`). */
  knownFailures: { index?: number; indices?: number[]; reason: string }[];
}

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'wpt');
const load = (file: string): unknown => JSON.parse(readFileSync(join(FIXTURES, file), 'utf8'));
const expectations = JSON.parse(readFileSync(join(import.meta.dirname, 'expectations.json'), 'utf8')) as Record<string, Expectation>;
const objects = (list: unknown) => (list as unknown[]).filter((c) => typeof c === 'object' && c !== null);

// [name in expectations.json (the data file, with what it runs through when a file runs twice), cases, check]
const suites: [name: string, cases: () => unknown[], check: string][] = [
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
  ['fetch/data-urls/resources/base64.json (fetch)', () => load('fetch/data-urls/resources/base64.json') as unknown[], DATA_URL_BASE64],
  ['fetch/data-urls/resources/data-urls.json', () => load('fetch/data-urls/resources/data-urls.json') as unknown[], DATA_URL_FETCH],
  ['mimesniff/mime-types/resources/mime-types.json (Request/Response)', () => objects(load('mimesniff/mime-types/resources/mime-types.json')), MIME_BODY],
  ['mimesniff/mime-types/resources/mime-types.json (Blob/File)', () => objects(load('mimesniff/mime-types/resources/mime-types.json')), MIME_BLOB],
  [
    'mimesniff/mime-types/resources/generated-mime-types.json (Request/Response)',
    () => objects(load('mimesniff/mime-types/resources/generated-mime-types.json')),
    MIME_BODY,
  ],
  [
    'mimesniff/mime-types/resources/generated-mime-types.json (Blob/File)',
    () => objects(load('mimesniff/mime-types/resources/generated-mime-types.json')),
    MIME_BLOB,
  ],
  ['urlpattern/resources/urlpatterntestdata.json', () => load('urlpattern/resources/urlpatterntestdata.json') as unknown[], URL_PATTERN],
];

const evaluator = await Evaluator.create();
t.teardown(() => evaluator.dispose());

for (const [file, cases, check] of suites) {
  t.test(file, async (t) => {
    const expected = expectations[file]!;
    const all = cases();
    const failures = runCases(evaluator, all, check, 50);
    const known = new Set(expected.knownFailures.flatMap((f) => f.indices ?? [f.index!]));
    const passing = all.length - failures.length;
    t.comment(`${file}: ${passing} of ${all.length} pass (${known.size} known failures)`);
    t.equal(all.length, expected.total, 'the data file has the cases the expectation was made for');
    t.ok(passing >= expected.passing, `${passing} passing, expected at least ${expected.passing}`);
    const failing = new Set(failures.map((f) => f.index));
    const fixed = [...known].filter((index) => !failing.has(index));
    if (fixed.length > 0) t.comment(`known failures that now pass (update expectations.json): ${fixed.join(', ')}`);
    for (const failure of failures.filter((f) => !known.has(f.index))) {
      t.fail(`case ${failure.index} ${JSON.stringify(failure.input)}: ${failure.why}`);
    }
  });
}
