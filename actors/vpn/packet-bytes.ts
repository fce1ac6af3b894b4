/** Byte helpers of the VPN data plane (actors/vpn/packet-pump.ts). */

/** IPv4 address bytes at `offset` as a number, without allocating. */
export const ipAt = (packet: Uint8Array, offset: number): number =>
  ((packet[offset]! << 24) | (packet[offset + 1]! << 16) | (packet[offset + 2]! << 8) | packet[offset + 3]!) >>> 0

/** A message with nothing left over. */
export const EMPTY = new Uint8Array(0)

/** `array` with twice the room, its values kept. */
export function grown (array: Uint32Array): Uint32Array {
  const bigger = new Uint32Array(array.length * 2)
  bigger.set(array)
  return bigger
}

/** `a` then `b` in one new array. */
export function concat (a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.byteLength + b.byteLength)
  out.set(a, 0)
  out.set(b, a.byteLength)
  return out
}

/** `[u16 length][packet]…` for the given packets (start, length) of a TUN batch; `bytes` is the frame's size. */
export function frameOf (packets: Uint8Array, parts: Array<[number, number]>, bytes: number): Uint8Array {
  const frame = new Uint8Array(bytes)
  let at = 0
  for (const [start, length] of parts) {
    frame[at] = length >> 8
    frame[at + 1] = length & 0xff
    frame.set(packets.subarray(start, start + length), at + 2)
    at += length + 2
  }
  return frame
}
