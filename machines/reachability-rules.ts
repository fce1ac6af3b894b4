/**
 * Pure rules behind the discovery machine: what a host's own verified addresses
 * say about its reachability, and what a peer's connections say about how it is
 * reached. No I/O; unit-tested on their own.
 */

/** How others can reach this host. */
export type Reachability = 'unknown' | 'public' | 'private'

/** How this host reaches a peer right now. */
export type PeerPath = 'direct' | 'relayed' | 'none'

const PRIVATE_V4: Array<[number, number]> = [
  [0x0a000000, 8], [0x7f000000, 8], [0x64400000, 10], [0xa9fe0000, 16], [0xac100000, 12],
  [0xc0a80000, 16], [0xc0000000, 24], [0xc0000200, 24], [0xc6120000, 15], [0xc6336400, 24],
  [0xcb007100, 24], [0xe0000000, 4], [0xf0000000, 4], [0x00000000, 8]
]

/** True for loopback, RFC 1918, CGNAT, link-local, documentation and multicast IPv4, and non-global IPv6. */
export function isPrivateIp (ip: string): boolean {
  if (ip.includes(':')) {
    const lower = ip.toLowerCase()
    return lower === '::1' || lower === '::' || lower.startsWith('fe80:') || lower.startsWith('fc') || lower.startsWith('fd')
  }
  const parts = ip.split('.').map(Number)
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) return true
  const value = ((parts[0]! << 24) >>> 0) + (parts[1]! << 16) + (parts[2]! << 8) + parts[3]!
  return PRIVATE_V4.some(([base, bits]) => (value >>> (32 - bits)) === (base >>> (32 - bits)))
}

/** A relayed address: `/…/p2p/<relay>/p2p-circuit/…`. */
export const isRelayAddress = (address: string): boolean => address.includes('/p2p-circuit')

/** The relay's peer id in a relayed address. */
export function relayOf (address: string): string | undefined {
  const parts = address.split('/')
  const circuit = parts.indexOf('p2p-circuit')
  return circuit >= 2 && parts[circuit - 2] === 'p2p' ? parts[circuit - 1] : undefined
}

const hostOf = (address: string): string | undefined => /^\/(?:ip4|ip6)\/([^/]+)/.exec(address)?.[1]

/**
 * Reachability from the addresses libp2p announces (only verified ones: listen
 * addresses on private interfaces, public ones once AutoNAT confirmed them,
 * relay reservations): public when a direct public address is announced,
 * private otherwise.
 */
export function reachabilityOf (addresses: string[]): Exclude<Reachability, 'unknown'> {
  const direct = addresses.filter((address) => !isRelayAddress(address))
  return direct.some((address) => { const host = hostOf(address); return host != null && !isPrivateIp(host) }) || direct.some((a) => a.startsWith('/dns'))
    ? 'public'
    : 'private'
}

/** Relays holding a reservation for this host, from its announced addresses. */
export function relaysOf (addresses: string[]): string[] {
  return [...new Set(addresses.filter(isRelayAddress).map(relayOf).filter((r): r is string => r != null))].sort()
}

/** A peer's path from its open connections: any direct one wins over relayed ones. */
export function pathOf (connections: { direct: number, relayed: number }): PeerPath {
  if (connections.direct > 0) return 'direct'
  return connections.relayed > 0 ? 'relayed' : 'none'
}
