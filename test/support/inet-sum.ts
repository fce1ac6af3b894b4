/** The Internet checksum's one's-complement sum (RFC 1071) of `bytes`, folded to 16 bits, starting from `sum`. */
export function sum16 (bytes: Uint8Array, sum = 0): number {
  for (let i = 0; i + 1 < bytes.length; i += 2) sum += (bytes[i]! << 8) | bytes[i + 1]!
  if (bytes.length % 2 === 1) sum += bytes[bytes.length - 1]! << 8
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16)
  return sum
}
