/** Byte helpers shared by the rooms that read bodies (data plane, outbound fetch). */

/** The chunks joined into one ArrayBuffer of its own (never a slice of Node's Buffer pool). */
export function concatToArrayBuffer(chunks: readonly Uint8Array[], size: number): ArrayBuffer {
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes.buffer;
}
