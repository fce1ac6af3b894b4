import type { MultiaddrConnection } from '@libp2p/interface'

/**
 * Inbound connections still upgrading (PSK nonce, Noise, muxer), counted per
 * remote IP. libp2p's own limit (`maxIncomingPendingConnections`) is one for the
 * whole node: one address holding idle sockets would fill it and shut every other
 * dialer out, the swarm owner's private host included. Past `perIp`, a new socket
 * from that IP is closed at once (libp2p asks the gater right after it takes a
 * slot, so a refusal frees it again). IPv6 addresses count per /64.
 */
export class PendingUpgrades {
  private readonly byIp = new Map<string, number>()
  private readonly counted = new WeakMap<MultiaddrConnection, string>()

  constructor (private readonly perIp: number) {}

  /** For the connection gater's `denyInboundConnection`: true refuses the socket. */
  readonly deny = (connection: MultiaddrConnection): boolean => {
    const ip = bucketOf(connection.remoteAddr.toString())
    if (ip == null) return false
    const held = this.byIp.get(ip) ?? 0
    if (held >= this.perIp) return true
    this.byIp.set(ip, held + 1)
    this.counted.set(connection, ip)
    // a failed or timed-out upgrade aborts the socket
    connection.addEventListener('close', () => { this.release(connection) }, { once: true })
    return false
  }

  /** For the gater's `denyInboundUpgradedConnection`: the upgrade is done, its slot is free. */
  readonly upgraded = (connection: MultiaddrConnection): boolean => {
    this.release(connection)
    return false
  }

  /** Upgrades under way from the IP (or /64) of `address`. */
  pendingFrom (address: string): number {
    const ip = bucketOf(address)
    return ip == null ? 0 : this.byIp.get(ip) ?? 0
  }

  private release (connection: MultiaddrConnection): void {
    const ip = this.counted.get(connection)
    if (ip == null) return
    this.counted.delete(connection)
    const held = (this.byIp.get(ip) ?? 1) - 1
    if (held <= 0) this.byIp.delete(ip)
    else this.byIp.set(ip, held)
  }
}

/**
 * The IPv4 address, or the /64 of an IPv6 one, of a multiaddr; undefined for anything else, and
 * for a relayed connection (its address is the relay's, which limits its own clients).
 */
function bucketOf (address: string): string | undefined {
  if (address.includes('/p2p-circuit')) return undefined
  const v4 = /^\/ip4\/([^/]+)/.exec(address)
  if (v4 != null) return v4[1]
  const v6 = /^\/ip6\/([^/]+)/.exec(address)
  if (v6 == null) return undefined
  return expandV6(v6[1]!).slice(0, 4).join(':')
}

function expandV6 (address: string): string[] {
  const [head = '', tail] = address.split('::')
  const left = head === '' ? [] : head.split(':')
  const right = tail == null || tail === '' ? [] : tail.split(':')
  const zeros = tail == null ? [] : Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0')
  return [...left, ...zeros, ...right].map((group) => group.toLowerCase().replace(/^0+(?=.)/, ''))
}
