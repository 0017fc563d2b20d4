/**
 * The host side of Workers' `crypto.DigestStream` (runtime/workers/digest-stream.ts): one incremental
 * hash per open stream, kept per isolate, so a stream of any length is hashed as it is written without
 * being held. host('digestStream', action, ...): 'create' with an algorithm answers an id (null past
 * MAX_OPEN or for an unknown algorithm); 'update' with an id and a chunk; 'finish' answers the digest
 * and forgets the id; 'drop' forgets it. Every call is answered at once, inside the slice.
 */
import type { Hash } from 'node:crypto';
import { arrayBuffer, createDigest } from './host-crypto.ts';

/** Streams one isolate may have open at once (a few hundred bytes each). */
const MAX_OPEN = 1000;

export class DigestStreams {
  readonly #open = new Map<number, Hash>();
  #nextId = 1;

  call(args: unknown[]): unknown {
    const [action, idOrAlgorithm, chunk] = args;
    switch (action) {
      case 'create': {
        const hash = this.#open.size < MAX_OPEN ? createDigest(idOrAlgorithm) : null;
        if (hash === null) return null;
        const id = this.#nextId++;
        this.#open.set(id, hash);
        return id;
      }
      case 'update': {
        const hash = this.#open.get(idOrAlgorithm as number);
        if (hash === undefined || !(chunk instanceof ArrayBuffer)) return false;
        hash.update(new Uint8Array(chunk));
        return true;
      }
      case 'finish': {
        const hash = this.#open.get(idOrAlgorithm as number);
        if (hash === undefined) return null;
        this.#open.delete(idOrAlgorithm as number);
        return arrayBuffer(hash.digest());
      }
      case 'drop':
        this.#open.delete(idOrAlgorithm as number);
        return undefined;
      default:
        return undefined;
    }
  }
}
