/**
 * The byte length some streams are known to carry: a FixedLengthStream's readable side, and an incoming
 * request's body sent with a Content-Length. fetch() sends such a stream upstream with that length
 * instead of chunked, as Workers do: S3's and GCS's presigned PUTs refuse a chunked body (411, 501).
 */
import { WeakMapCtor, WeakMapPrototypeGet, WeakMapPrototypeSet } from '../primordials.ts';

const lengths = new WeakMapCtor<object, number>();

export function setKnownLength(stream: object, length: number): void {
  WeakMapPrototypeSet(lengths, stream, length);
}

/** The length `stream` will carry, or undefined. */
export function knownLength(stream: object): number | undefined {
  return WeakMapPrototypeGet(lengths, stream);
}
