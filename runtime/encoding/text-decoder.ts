// https://encoding.spec.whatwg.org/#interface-textdecoder
import { StringPrototypeToLowerCase, StringPrototypeCharCodeAt, StringPrototypeSlice } from '../primordials.ts';
import { nameClass } from '../global/define.ts';
import { bufferSourceBytes } from './buffer-source.ts';
import { type Decoder, HostDecoder, Utf16Decoder, Windows1252Decoder } from './other-decoders.ts';
import { Utf8Decoder } from './utf8.ts';
import { hostEncodingName } from '../bridge.ts';

/** Those decoded here; any other name is a legacy encoding the host decodes (HostDecoder). */
type Encoding = 'utf-8' | 'utf-16le' | 'utf-16be' | 'windows-1252';

// https://encoding.spec.whatwg.org/#names-and-labels, for the encodings decoded here; the host knows the rest.
const LABELS: Record<string, Encoding> = {
  __proto__: null as never,
  'unicode-1-1-utf-8': 'utf-8', unicode11utf8: 'utf-8', unicode20utf8: 'utf-8', 'utf-8': 'utf-8', utf8: 'utf-8', 'x-unicode20utf8': 'utf-8',
  csunicode: 'utf-16le', 'iso-10646-ucs-2': 'utf-16le', 'ucs-2': 'utf-16le', unicode: 'utf-16le', unicodefeff: 'utf-16le', 'utf-16': 'utf-16le', 'utf-16le': 'utf-16le',
  unicodefffe: 'utf-16be', 'utf-16be': 'utf-16be',
  'ansi_x3.4-1968': 'windows-1252', ascii: 'windows-1252', cp1252: 'windows-1252', cp819: 'windows-1252', csisolatin1: 'windows-1252', ibm819: 'windows-1252',
  'iso-8859-1': 'windows-1252', 'iso-ir-100': 'windows-1252', 'iso8859-1': 'windows-1252', iso88591: 'windows-1252', iso_8859_1: 'windows-1252',
  'iso_8859-1': 'windows-1252', 'iso_8859-1:1987': 'windows-1252', l1: 'windows-1252', latin1: 'windows-1252', 'us-ascii': 'windows-1252',
  'windows-1252': 'windows-1252', 'x-cp1252': 'windows-1252',
};

function decoderFor(encoding: string): Decoder {
  if (encoding === 'utf-8') return new Utf8Decoder();
  if (encoding === 'windows-1252') return new Windows1252Decoder();
  return encoding === 'utf-16le' || encoding === 'utf-16be' ? new Utf16Decoder(encoding === 'utf-16be') : new HostDecoder(encoding);
}

const EMPTY = new Uint8Array(0);

function isAsciiWhitespace(c: number): boolean {
  return c === 0x09 || c === 0x0a || c === 0x0c || c === 0x0d || c === 0x20;
}

// https://encoding.spec.whatwg.org/#concept-encoding-get
function encodingOf(label: string): string | undefined {
  let start = 0;
  let end = label.length;
  while (start < end && isAsciiWhitespace(StringPrototypeCharCodeAt(label, start))) start++;
  while (end > start && isAsciiWhitespace(StringPrototypeCharCodeAt(label, end - 1))) end--;
  const name = StringPrototypeToLowerCase(StringPrototypeSlice(label, start, end));
  return LABELS[name] ?? hostEncodingName(name) ?? undefined;
}

/** UTF-8 and UTF-16 strip a leading byte order mark (https://encoding.spec.whatwg.org/#concept-td-serialize). */
const HAS_BOM: Record<string, true> = { __proto__: null as never, 'utf-8': true, 'utf-16le': true, 'utf-16be': true };

interface TextDecoderOptions {
  fatal?: boolean;
  ignoreBOM?: boolean;
}

export class TextDecoder {
  #encoding: string;
  #fatal: boolean;
  #ignoreBOM: boolean;
  #decoder: Decoder;
  /** "BOM seen": set once the first bytes of a stream were looked at for a BOM. */
  #bomSeen = false;
  /** "do not flush": the previous decode() call passed `stream: true`. */
  #doNotFlush = false;

  // https://encoding.spec.whatwg.org/#dom-textdecoder
  constructor(label: unknown = 'utf-8', options: TextDecoderOptions | null | undefined = {}) {
    // Unknown labels, and those of the "replacement" encoding, are a RangeError.
    const name = `${label as string}`;
    const encoding = encodingOf(name);
    if (encoding === undefined) {
      throw new RangeError(`Failed to construct 'TextDecoder': The encoding label provided ('${name}') is invalid.`);
    }
    this.#encoding = encoding;
    this.#decoder = decoderFor(encoding);
    const init = options ?? {};
    if (typeof init !== 'object' && typeof init !== 'function') {
      throw new TypeError("Failed to construct 'TextDecoder': The provided value is not of type 'TextDecoderOptions'.");
    }
    this.#fatal = !!init.fatal;
    this.#ignoreBOM = !!init.ignoreBOM;
  }

  get encoding(): string {
    return this.#encoding;
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
      throw new TypeError(`Failed to execute 'decode' on 'TextDecoder': The encoded data was not valid for encoding ${this.#encoding}`);
    }
    // https://encoding.spec.whatwg.org/#concept-td-serialize: strip one leading BOM per stream.
    // Until a first code point comes out (it may still be incomplete), the BOM is undecided.
    if (!this.#ignoreBOM && !this.#bomSeen && output.length > 0 && HAS_BOM[this.#encoding] === true) {
      this.#bomSeen = true;
      if (StringPrototypeCharCodeAt(output, 0) === 0xfeff) output = StringPrototypeSlice(output, 1);
    }
    return output;
  }
}
nameClass(TextDecoder, 'TextDecoder');
