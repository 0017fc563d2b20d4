import { DEFAULT_LIMITS, type VersionSpec } from '../../src/types.ts';

/** A small module worker whose code says `label`: different labels, different versions. */
export function makeSpec(label: string, padding = 0): VersionSpec {
  return {
    syntax: 'module',
    main: 'main.js',
    modules: [
      {
        name: 'main.js',
        type: 'esm',
        content: `// ${label}\n/* ${'x'.repeat(padding)} */\nexport default { fetch() { return new Response(${JSON.stringify(label)}); } };\n`,
      },
      { name: 'data.json', type: 'json', content: '{"a":1}' },
    ],
    bindings: [
      { type: 'plain_text', name: 'GREETING', text: 'hi' },
      { type: 'secret_text', name: 'KEY', text: 's3cret' },
      { type: 'json', name: 'CONFIG', json: { nested: { b: 2, a: [1, 'two', null] } } },
    ],
    compatibilityDate: '2024-09-23',
    limits: { ...DEFAULT_LIMITS },
  };
}

/** The label `makeSpec` wrote into the code. */
export function labelOf(spec: VersionSpec): string | null {
  return /^\/\/ (.*)$/m.exec(spec.modules[0]?.content ?? '')?.[1] ?? null;
}
