import type { Connection, Libp2p } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

/**
 * The libp2p internals dms-network relies on, in one place (libp2p 3 has no public API for
 * them): listening at run time, confirming the private host's own addresses, and the hole
 * punch's dial from a chosen local port (transport, upgrader and gater without the dial queue).
 */
export interface Libp2pInternals {
  transportManager: {
    listen: (addresses: Multiaddr[]) => Promise<void>
    getAddrs: () => Multiaddr[]
    dialTransportForMultiaddr: (to: Multiaddr) => { dial: (to: Multiaddr, options: Record<string, unknown>) => Promise<Connection> } | undefined
  }
  addressManager: { confirmObservedAddr: (address: Multiaddr, options: { type: 'transport', ttl: number }) => void }
  upgrader: { upgradeOutbound: (connection: { direction: string }, options: Record<string, unknown>) => Promise<Connection> }
  connectionGater: { denyDialMultiaddr?: (to: Multiaddr) => boolean | Promise<boolean> }
}

export const internalsOf = (libp2p: Libp2p): Libp2pInternals => (libp2p as unknown as { components: Libp2pInternals }).components

/** Gossipsub's mesh peers on a topic: the implementation has them, its declared interface does not. */
export function meshPeerCount (pubsub: object, topic: string): number {
  const mesh = (pubsub as { getMeshPeers?: (topic: string) => string[] }).getMeshPeers
  return typeof mesh === 'function' ? mesh.call(pubsub, topic).length : 0
}
