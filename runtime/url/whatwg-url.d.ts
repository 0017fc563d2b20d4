/** The part of whatwg-url (the URL Standard's reference implementation) the runtime uses: its URL record. */
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
}
