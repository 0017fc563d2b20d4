/**
 * Replaces @exodus/bytes/encoding.js at bundle time: whatwg-url imports it only to register the
 * legacy multi-byte encodings (Shift_JIS, GB18030, …) that HTML documents may use for query strings.
 * URLs made through the URL API are always UTF-8, so their tables would be dead weight here.
 */
export {};
