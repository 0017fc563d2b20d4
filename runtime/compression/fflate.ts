/**
 * The parts of fflate (MIT, https://github.com/101arrowz/fflate) the compression streams use: its
 * synchronous streaming DEFLATE, zlib and gzip compressors and raw DEFLATE decompressor. This module is
 * the entry of a runtime chunk (src/isolates/runtime-bundle.ts) that codecs.ts loads on first use, with
 * the part of fflate it reaches (tree-shaken from fflate's ES module build: none of fflate's Worker-based
 * async API, ZIP or UTF-8 code): an isolate that never compresses neither holds its source nor builds
 * its tables.
 */
export { Deflate, Gzip, Inflate, Zlib } from 'fflate';
