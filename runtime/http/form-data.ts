/**
 * FormData (https://xhr.spec.whatwg.org/#interface-formdata): an ordered list of entries whose
 * values are strings or Files. There is no <form> here, so the constructor takes no argument.
 */
import {
  ArrayPrototypeSplice,
  CONFIGURABLE,
  defineValue,
  ReflectApply,
  StringPrototypeToWellFormed,
  SymbolIterator,
  WRITABLE,
} from '../primordials.ts';
import { nameClass } from '../global/define.ts';
import { registerInspector } from '../global/inspect.ts';
import { type File, blobParts, createFile, fileName, isBlob, isFile } from './blob.ts';

export interface FormDataEntry {
  name: string;
  value: string | File;
}

// Set by FormData's static block (defineFormData()); no FormData exists before.
let entriesOf: (formData: object) => FormDataEntry[];
let isFormDataSlot: (value: unknown) => boolean;

// https://xhr.spec.whatwg.org/#create-an-entry
function createEntry(method: string, name: unknown, value: unknown, filename: unknown, argc: number): FormDataEntry {
  if (argc < 2) throw new TypeError(`Failed to execute '${method}' on 'FormData': 2 arguments required, but only ${argc} present.`);
  const key = StringPrototypeToWellFormed(`${name as string}`);
  if (!isBlob(value)) {
    if (argc > 2) throw new TypeError(`Failed to execute '${method}' on 'FormData': parameter 2 is not of type 'Blob'.`);
    return { name: key, value: StringPrototypeToWellFormed(`${value as string}`) };
  }
  // 3. A Blob that is not a File becomes a File named "blob"; 4. a filename gives a new File.
  if (isFile(value) && filename === undefined) return { name: key, value };
  const parts = blobParts(value);
  const fname = filename !== undefined ? StringPrototypeToWellFormed(`${filename as string}`) : isFile(value) ? fileName(value) : 'blob';
  const lastModified = isFile(value) ? value.lastModified : undefined;
  return { name: key, value: createFile(parts.bytes, fname, parts.type, lastModified) };
}

function defineFormData() {
  class FormData {
    #entries: FormDataEntry[] = [];

    constructor(form: unknown = undefined) {
      if (form !== undefined) throw new TypeError("Failed to construct 'FormData': parameter 1 is not of type 'HTMLFormElement'.");
    }

    append(name: unknown, value: unknown, filename: unknown = undefined): void {
      const list = this.#entries;
      list[list.length] = createEntry('append', name, value, filename, arguments.length);
    }

    delete(name: unknown): void {
      const list = this.#entries;
      const key = StringPrototypeToWellFormed(`${name as string}`);
      for (let i = list.length - 1; i >= 0; i--) if (list[i]!.name === key) ArrayPrototypeSplice(list, i, 1);
    }

    get(name: unknown): string | File | null {
      const list = this.#entries;
      const key = StringPrototypeToWellFormed(`${name as string}`);
      for (let i = 0; i < list.length; i++) if (list[i]!.name === key) return list[i]!.value;
      return null;
    }

    getAll(name: unknown): (string | File)[] {
      const list = this.#entries;
      const key = StringPrototypeToWellFormed(`${name as string}`);
      const values: (string | File)[] = [];
      for (let i = 0; i < list.length; i++) if (list[i]!.name === key) values[values.length] = list[i]!.value;
      return values;
    }

    has(name: unknown): boolean {
      const list = this.#entries;
      const key = StringPrototypeToWellFormed(`${name as string}`);
      for (let i = 0; i < list.length; i++) if (list[i]!.name === key) return true;
      return false;
    }

    // https://xhr.spec.whatwg.org/#dom-formdata-set: replaces the first entry named `name`, drops the rest.
    set(name: unknown, value: unknown, filename: unknown = undefined): void {
      const entry = createEntry('set', name, value, filename, arguments.length);
      const list = this.#entries;
      let found = false;
      for (let i = 0; i < list.length; i++) {
        if (list[i]!.name !== entry.name) continue;
        if (!found) {
          list[i] = entry;
          found = true;
        } else {
          ArrayPrototypeSplice(list, i--, 1);
        }
      }
      if (!found) list[list.length] = entry;
    }

    // Web IDL pair iterators (https://webidl.spec.whatwg.org/#idl-iterable): live over the list.
    *entries(): Generator<[string, string | File]> {
      const list = this.#entries;
      for (let i = 0; i < list.length; i++) yield [list[i]!.name, list[i]!.value];
    }

    *keys(): Generator<string> {
      const list = this.#entries;
      for (let i = 0; i < list.length; i++) yield list[i]!.name;
    }

    *values(): Generator<string | File> {
      const list = this.#entries;
      for (let i = 0; i < list.length; i++) yield list[i]!.value;
    }

    forEach(callback: unknown, thisArg: unknown = undefined): void {
      if (typeof callback !== 'function') {
        throw new TypeError("Failed to execute 'forEach' on 'FormData': The callback provided as parameter 1 is not a function.");
      }
      const list = this.#entries;
      for (let i = 0; i < list.length; i++) ReflectApply(callback, thisArg, [list[i]!.value, list[i]!.name, this]);
    }

    static {
      entriesOf = (formData) => (formData as FormData).#entries;
      isFormDataSlot = (value) => typeof value === 'object' && value !== null && #entries in value;
    }
  }
  nameClass(FormData, 'FormData');
  defineValue(FormData.prototype, SymbolIterator, FormData.prototype.entries, WRITABLE | CONFIGURABLE);

  registerInspector(FormData.prototype, (formData: FormData) => {
    const list = entriesOf(formData);
    const plain: Record<string, unknown> = {};
    for (let i = 0; i < list.length; i++) plain[list[i]!.name] = list[i]!.value;
    return plain;
  });
  return { FormData };
}

type FormDataApi = ReturnType<typeof defineFormData>;
export type FormData = InstanceType<FormDataApi['FormData']>;

let api: FormDataApi | null = null;

/** Defined on first use, like the event classes (events/event.ts loadEvents). */
export function loadFormData(): FormDataApi {
  return (api ??= defineFormData());
}

export { entriesOf };

export function isFormData(value: unknown): value is FormData {
  return api !== null && isFormDataSlot(value);
}

/** A FormData holding `entries` (taken, not copied). */
export function createFormData(entries: FormDataEntry[]): FormData {
  const formData = new (loadFormData().FormData)();
  const list = entriesOf(formData);
  for (let i = 0; i < entries.length; i++) list[i] = entries[i]!;
  return formData;
}
