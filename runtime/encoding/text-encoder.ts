// https://encoding.spec.whatwg.org/#interface-textencoder
import { TypedArrayPrototypeGetSymbolToStringTag } from '../primordials.ts';
import { nameClass } from '../global/define.ts';
import { utf8Encode, utf8EncodeInto } from './utf8.ts';

export class TextEncoder {
  get encoding(): 'utf-8' {
    return 'utf-8';
  }

  // https://encoding.spec.whatwg.org/#dom-textencoder-encode
  encode(input: unknown = ''): Uint8Array<ArrayBuffer> {
    return utf8Encode(`${input as string}`);
  }

  // https://encoding.spec.whatwg.org/#dom-textencoder-encodeinto
  encodeInto(source: unknown, destination: Uint8Array): { read: number; written: number } {
    if (TypedArrayPrototypeGetSymbolToStringTag(destination) !== 'Uint8Array') {
      throw new TypeError("Failed to execute 'encodeInto' on 'TextEncoder': parameter 2 is not of type 'Uint8Array'.");
    }
    const result = { read: 0, written: 0 };
    utf8EncodeInto(`${source as string}`, destination, result);
    return result;
  }
}
nameClass(TextEncoder, 'TextEncoder');
