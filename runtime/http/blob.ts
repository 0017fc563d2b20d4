/**
 * Blob and File (https://w3c.github.io/FileAPI/#blob-section). A Blob holds its bytes in memory,
 * never mutated once held, so slices and bodies made from it may share them.
 */
import { concatBytes } from '../encoding/concat-bytes.ts';
import { DateNow, MathTrunc, NumberIsFinite, StringPrototypeCharCodeAt, StringPrototypeToLowerCase, StringPrototypeToWellFormed, TypedArrayPrototypeGetBuffer, TypedArrayPrototypeGetLength, Uint8ArrayCtor } from '../primordials.ts';
import { bufferSourceBytes, copyBytes, subarray } from '../encoding/buffer-source.ts';
import { utf8Decode, utf8Encode } from '../encoding/utf8.ts';
import { nameClass } from '../global/define.ts';
import { registerInspector } from '../global/inspect.ts';
import { streamFromBytes } from '../streams/stream-from-bytes.ts';
import type { ReadableStream } from '../streams/web-streams.ts';

// Set by the classes' static blocks (defineBlob()); no Blob exists before.
let blobSlots: (blob: object) => { bytes: Uint8Array<ArrayBuffer>; type: string };
let isBlobSlot: (value: unknown) => boolean;
let fileSlots: (file: object) => { name: string };
let isFileSlot: (value: unknown) => boolean;
let setBlobBytes: (blob: object, bytes: Uint8Array<ArrayBuffer>, type: string) => void;

// https://w3c.github.io/FileAPI/#dfn-type: not all within U+0020..U+007E → ''; else lower-cased.
function normalizeType(value: unknown): string {
  if (value === undefined) return '';
  const type = `${value as string}`;
  for (let i = 0; i < type.length; i++) {
    const c = StringPrototypeCharCodeAt(type, i);
    if (c < 0x20 || c > 0x7e) return '';
  }
  return StringPrototypeToLowerCase(type);
}

// https://w3c.github.io/FileAPI/#process-blob-parts
function processBlobParts(parts: unknown, endings: unknown): Uint8Array<ArrayBuffer> {
  if (parts === undefined) return new Uint8ArrayCtor(0);
  if (typeof parts !== 'object' || parts === null) {
    throw new TypeError("Failed to construct 'Blob': The provided value cannot be converted to a sequence.");
  }
  if (endings !== undefined && `${endings as string}` !== 'transparent' && `${endings as string}` !== 'native') {
    throw new TypeError(`Failed to construct 'Blob': '${endings as string}' is not a valid value for 'endings'.`);
  }
  const chunks: Uint8Array[] = [];
  // Web IDL sequence<BlobPart>: iterated with the value's own iterator, as the spec says.
  for (const part of parts as Iterable<unknown>) {
    let bytes: Uint8Array | null;
    if (isBlob(part)) bytes = blobSlots(part).bytes;
    else {
      bytes = bufferSourceBytes(part, false);
      // A string (or anything else, converted to a USVString) is UTF-8 encoded. "native" line
      // endings are "\n" here, which is what the text already uses.
      if (bytes === null) bytes = utf8Encode(StringPrototypeToWellFormed(`${part as string}`));
    }
    chunks[chunks.length] = bytes;
  }
  return concatBytes(chunks);
}

/** Web IDL `long long` (clamped to the safe range), then the slice clamping of the File API. */
function relativeIndex(value: unknown, size: number, fallback: number): number {
  if (value === undefined) return fallback;
  let n = +(value as number);
  n = NumberIsFinite(n) ? MathTrunc(n) : n !== n ? 0 : n;
  if (n < 0) return n + size < 0 ? 0 : n + size;
  return n > size ? size : n;
}

function defineBlob() {
  class Blob {
    #bytes: Uint8Array<ArrayBuffer>;
    #type: string;

    // https://w3c.github.io/FileAPI/#constructorBlob
    constructor(blobParts: unknown = undefined, options: unknown = undefined) {
      const o = (options ?? {}) as { type?: unknown; endings?: unknown };
      this.#bytes = processBlobParts(blobParts, o.endings);
      this.#type = normalizeType(o.type);
    }

    get size(): number {
      return TypedArrayPrototypeGetLength(this.#bytes);
    }

    get type(): string {
      return this.#type;
    }

    // https://w3c.github.io/FileAPI/#dfn-slice
    slice(start: unknown = undefined, end: unknown = undefined, contentType: unknown = undefined): Blob {
      const size = TypedArrayPrototypeGetLength(this.#bytes);
      const from = relativeIndex(start, size, 0);
      const to = relativeIndex(end, size, size);
      return createBlob(subarray(this.#bytes, from, to > from ? to : from) as Uint8Array<ArrayBuffer>, normalizeType(contentType));
    }

    async text(): Promise<string> {
      return utf8Decode(this.#bytes);
    }

    async arrayBuffer(): Promise<ArrayBuffer> {
      return TypedArrayPrototypeGetBuffer(copyBytes(this.#bytes)) as ArrayBuffer;
    }

    async bytes(): Promise<Uint8Array<ArrayBuffer>> {
      return copyBytes(this.#bytes);
    }

    stream(): ReadableStream<Uint8Array> {
      return streamFromBytes(this.#bytes);
    }

    static {
      blobSlots = (blob) => ({ bytes: (blob as Blob).#bytes, type: (blob as Blob).#type });
      isBlobSlot = (value) => typeof value === 'object' && value !== null && #bytes in value;
      setBlobBytes = (blob, bytes, type) => {
        (blob as Blob).#bytes = bytes;
        (blob as Blob).#type = type;
      };
    }
  }
  nameClass(Blob, 'Blob');

  class File extends Blob {
    #name: string;
    #lastModified: number;

    // https://w3c.github.io/FileAPI/#file-constructor
    constructor(fileBits: unknown, fileName: unknown, options: unknown = undefined) {
      if (arguments.length < 2) {
        throw new TypeError(`Failed to construct 'File': 2 arguments required, but only ${arguments.length} present.`);
      }
      super(fileBits, options);
      this.#name = StringPrototypeToWellFormed(`${fileName as string}`);
      const lastModified = (options ?? {}) as { lastModified?: unknown };
      const ms = lastModified.lastModified === undefined ? DateNow() : +(lastModified.lastModified as number);
      this.#lastModified = NumberIsFinite(ms) ? MathTrunc(ms) : 0;
    }

    get name(): string {
      return this.#name;
    }

    get lastModified(): number {
      return this.#lastModified;
    }

    static {
      fileSlots = (file) => ({ name: (file as File).#name });
      isFileSlot = (value) => typeof value === 'object' && value !== null && #name in value;
    }
  }
  nameClass(File, 'File');

  registerInspector(Blob.prototype, (blob: Blob) => {
    const s = blobSlots(blob);
    return isFileSlot(blob)
      ? { name: fileSlots(blob).name, size: TypedArrayPrototypeGetLength(s.bytes), type: s.type }
      : { size: TypedArrayPrototypeGetLength(s.bytes), type: s.type };
  });
  return { Blob, File };
}

type BlobApi = ReturnType<typeof defineBlob>;
export type Blob = InstanceType<BlobApi['Blob']>;
export type File = InstanceType<BlobApi['File']>;

let api: BlobApi | null = null;

/** Defined on first use, like the event classes (events/event.ts loadEvents). */
export function loadBlob(): BlobApi {
  return (api ??= defineBlob());
}

/** A Blob over `bytes` (held, not copied: the caller gives them up). */
export function createBlob(bytes: Uint8Array<ArrayBuffer>, type: string): Blob {
  const blob = new (loadBlob().Blob)();
  setBlobBytes(blob, bytes, normalizeType(type));
  return blob;
}

/**
 * A Blob over `bytes` (held) whose type is `type` exactly as given: for a type that is already a
 * serialized MIME type (Body's blob(), https://fetch.spec.whatwg.org/#dom-body-blob), which may keep
 * upper case in parameter values and bytes above U+007E in quoted ones.
 */
export function createBlobWithExactType(bytes: Uint8Array<ArrayBuffer>, type: string): Blob {
  const blob = new (loadBlob().Blob)();
  setBlobBytes(blob, bytes, type);
  return blob;
}

export function isBlob(value: unknown): value is Blob {
  return api !== null && isBlobSlot(value);
}

/** The bytes a Blob holds (not a copy: never to be written to) and its type. */
export function blobParts(blob: Blob): { bytes: Uint8Array<ArrayBuffer>; type: string } {
  return blobSlots(blob);
}

export function isFile(value: unknown): value is File {
  return api !== null && isFileSlot(value);
}

export function fileName(file: File): string {
  return fileSlots(file).name;
}

/** A File over `bytes` (held, not copied). */
export function createFile(bytes: Uint8Array<ArrayBuffer>, name: string, type: string, lastModified: number = DateNow()): File {
  const file = new (loadBlob().File)([], name, { __proto__: null, lastModified });
  setBlobBytes(file, bytes, normalizeType(type));
  return file;
}
