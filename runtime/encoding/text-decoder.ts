// https://encoding.spec.whatwg.org/#interface-textdecoder
import { StringPrototypeToLowerCase, StringPrototypeCharCodeAt, StringPrototypeSlice } from '../primordials.ts';
import { nameClass } from '../global/define.ts';
import { bufferSourceBytes } from './buffer-source.ts';
import { Utf8Decoder } from './utf8.ts';

// https://encoding.spec.whatwg.org/#names-and-labels: the labels of UTF-8.
const UTF8_LABELS = ['unicode-1-1-utf-8', 'unicode11utf8', 'unicode20utf8', 'utf-8', 'utf8', 'x-unicode20utf8'];

const EMPTY = new Uint8Array(0);

function isAsciiWhitespace(c: number): boolean {
  return c === 0x09 || c === 0x0a || c === 0x0c || c === 0x0d || c === 0x20;
}

// https://encoding.spec.whatwg.org/#concept-encoding-get
function isUtf8Label(label: string): boolean {
  let start = 0;
  let end = label.length;
  while (start < end && isAsciiWhitespace(StringPrototypeCharCodeAt(label, start))) start++;
  while (end > start && isAsciiWhitespace(StringPrototypeCharCodeAt(label, end - 1))) end--;
  const name = StringPrototypeToLowerCase(StringPrototypeSlice(label, start, end));
  for (let i = 0; i < UTF8_LABELS.length; i++) if (UTF8_LABELS[i] === name) return true;
  return false;
}

interface TextDecoderOptions {
  fatal?: boolean;
  ignoreBOM?: boolean;
}

export class TextDecoder {
  #fatal: boolean;
  #ignoreBOM: boolean;
  #decoder = new Utf8Decoder();
  /** "BOM seen": set once the first bytes of a stream were looked at for a BOM. */
  #bomSeen = false;
  /** "do not flush": the previous decode() call passed `stream: true`. */
  #doNotFlush = false;

  // https://encoding.spec.whatwg.org/#dom-textdecoder
  constructor(label: unknown = 'utf-8', options: TextDecoderOptions | null | undefined = {}) {
    // Only UTF-8 is supported, as in most server runtimes: other labels are a RangeError, as for unknown ones.
    const name = `${label as string}`;
    if (!isUtf8Label(name)) {
      throw new RangeError(`Failed to construct 'TextDecoder': The encoding label provided ('${name}') is invalid.`);
    }
    const init = options ?? {};
    if (typeof init !== 'object' && typeof init !== 'function') {
      throw new TypeError("Failed to construct 'TextDecoder': The provided value is not of type 'TextDecoderOptions'.");
    }
    this.#fatal = !!init.fatal;
    this.#ignoreBOM = !!init.ignoreBOM;
  }

  get encoding(): 'utf-8' {
    return 'utf-8';
  }

  get fatal(): boolean {
    return this.#fatal;
  }

  get ignoreBOM(): boolean {
    return this.#ignoreBOM;
  }

  // https://encoding.spec.whatwg.org/#dom-textdecoder-decode
  decode(input?: unknown, options: { stream?: boolean } | null | undefined = {}): string {
    let bytes = EMPTY as Uint8Array;
    if (input !== undefined) {
      const view = bufferSourceBytes(input, true);
      if (view === null) {
        throw new TypeError(
          "Failed to execute 'decode' on 'TextDecoder': The provided value is not of type '(ArrayBuffer or ArrayBufferView)'.",
        );
      }
      bytes = view;
    }
    const stream = !!(options ?? {}).stream;
    // 1. If this's do not flush is false, set this's decoder to a new decoder and BOM seen to false.
    if (!this.#doNotFlush) {
      this.#decoder.reset();
      this.#bomSeen = false;
    }
    // 2. Set this's do not flush to options["stream"].
    this.#doNotFlush = stream;
    // 3-5. Decode; a stream's incomplete last sequence waits in the decoder for the next call.
    let output = this.#decoder.decode(bytes, this.#fatal, !stream);
    if (output === null) {
      this.#doNotFlush = false;
      throw new TypeError("Failed to execute 'decode' on 'TextDecoder': The encoded data was not valid for encoding utf-8");
    }
    // https://encoding.spec.whatwg.org/#concept-td-serialize: strip one leading BOM per stream.
    // Until a first code point comes out (it may still be incomplete), the BOM is undecided.
    if (!this.#ignoreBOM && !this.#bomSeen && output.length > 0) {
      this.#bomSeen = true;
      if (StringPrototypeCharCodeAt(output, 0) === 0xfeff) output = StringPrototypeSlice(output, 1);
    }
    return output;
  }
}
nameClass(TextDecoder, 'TextDecoder');
