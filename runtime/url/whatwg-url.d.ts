/** The part of whatwg-url (the URL Standard's reference implementation) the runtime uses. */
declare module 'whatwg-url' {
  export interface URLRecord {
    scheme: string;
    username: string;
    password: string;
    host: unknown;
    port: number | null;
    path: string | string[];
    query: string | null;
    fragment: string | null;
  }
  export const URL: new (url: string, base?: string) => object;
  export const URLSearchParams: new (init?: unknown) => object;
  export function parseURL(input: string, options?: { baseURL?: URLRecord }): URLRecord | null;
  export function serializeURL(url: URLRecord, excludeFragment?: boolean): string;
}

declare module 'whatwg-url/lib/URLSearchParams.js' {
  /** True for URLSearchParams wrappers made by whatwg-url (a brand check, not instanceof). */
  export function is(value: unknown): boolean;
}
