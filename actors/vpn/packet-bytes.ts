/** Byte helpers of the VPN data plane (actors/vpn/packet-pump.ts). */

/** IPv4 address bytes at `offset` as a number, without allocating. */
export const ipAt = (packet: Uint8Array, offset: number): number =>
  ((packet[offset]! << 24) | (packet[offset + 1]! << 16) | (packet[offset + 2]! << 8) | packet[offset + 3]!) >>> 0

/** `array` with twice the room, its values kept. */
export function grown<T extends Uint32Array | Uint16Array> (array: T): T {
  const bigger = new (array.constructor as new (length: number) => T)(array.length * 2)
  bigger.set(array)
  return bigger
}
