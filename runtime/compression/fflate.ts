/**
 * The parts of fflate (MIT, https://github.com/101arrowz/fflate) the compression streams use: its
 * synchronous streaming DEFLATE, zlib and gzip compressors and raw DEFLATE decompressor. Only this
 * module imports fflate, and compression-streams.ts require()s it on first use, so esbuild keeps it
 * (with the part of fflate it reaches, tree-shaken from fflate's ES module build: none of fflate's
 * Worker-based async API, ZIP or UTF-8 code) in a lazily run wrapper: an isolate that never compresses
 * does not evaluate it or build its tables.
 */
export { Deflate, Gzip, Inflate, Zlib } from 'fflate';
