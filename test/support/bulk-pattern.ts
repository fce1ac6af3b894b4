import { createHash } from 'node:crypto'

/** A `size`-byte pseudo-random block from a short seed (SHA-256 in counter mode), the same in every process. */
export function expandSeed (seedHex: string, size: number): Uint8Array {
  const out = new Uint8Array(size)
  for (let offset = 0, counter = 0; offset < size; offset += 32, counter++) {
    out.set(createHash('sha256').update(seedHex).update(String(counter)).digest().subarray(0, Math.min(32, size - offset)), offset)
  }
  return out
}

/** Chunk `index` of a deterministic test stream: the block with the index in its first 4 bytes. */
export function bulkChunk (block: Uint8Array, index: number): Uint8Array {
  const out = new Uint8Array(block)
  new DataView(out.buffer).setUint32(0, index)
  return out
}
