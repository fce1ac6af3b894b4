import type { Connection, Libp2p, Stream } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
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
    getTransports: () => object[]
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

/**
 * Whether a raw transport connection (what a connection protector saw) is under one of
 * `libp2p`'s upgraded connections to `peers`, as they are now; libp2p's Connection keeps
 * it as `maConn`, outside its interface. Without a running host, nothing is.
 */
export function rawConnectionTo (libp2p: Libp2p | undefined, peers: Iterable<string>): (raw: object) => boolean {
  const wanted = new Set(peers)
  const raw = new Set<object>()
  for (const connection of libp2p?.getConnections() ?? []) {
    const maConn = (connection as unknown as { maConn?: object }).maConn
    if (maConn != null && wanted.has(connection.remotePeer.toString())) raw.add(maConn)
  }
  return (connection) => raw.has(connection)
}

/** Where a host's transports are bound (a wildcard expanded per interface), with its peer id; relay listeners left out. */
export function listeningAddresses (libp2p: Libp2p): string[] {
  const id = libp2p.peerId.toString()
  return [...new Set(internalsOf(libp2p).transportManager.getAddrs().map(String))]
    .filter((address) => !address.includes('/p2p-circuit'))
    .map((address) => address.includes('/p2p/') ? address : `${address}/p2p/${id}`)
}

/**
 * Hosts built with a member relay (their relay service is that, not a public relay), and whether
 * their relay transport is there only for it (not a relay client): then relayed dials are guarded.
 */
const memberRelayHosts = new WeakMap<object, { service: boolean, guardDials: boolean }>()
export const markMemberRelay = (libp2p: object, mark: { service: boolean, guardDials: boolean }): void => { memberRelayHosts.set(libp2p, mark) }

/** The peers holding a slot on a host's relay service (none without one). */
export function relayReservations (libp2p: Libp2p | undefined): { has: (peer: string) => boolean } {
  const relay = (libp2p as unknown as { services?: { relay?: { reservations?: { has: (peer: unknown) => boolean } } } } | undefined)?.services?.relay
  return { has: (peer) => { try { return relay?.reservations?.has(peerIdFromString(peer)) === true } catch { return false } } }
}

/** The circuit relay v2 stop protocol (the receiving side of a relayed connection). */
const RELAY_STOP = '/libp2p/circuit/relay/0.2.0/stop'

/**
 * Take relayed connections only through relays `allow` names. libp2p's relay transport answers a
 * stop request from any peer, and first listens on that peer's relay; a host that has the
 * transport only to follow its VPN leader takes them from that leader alone.
 */
export async function guardRelayedDials (libp2p: Libp2p, allow: (relay: string) => boolean): Promise<void> {
  if (memberRelayHosts.get(libp2p)?.guardDials !== true) return
  const transport = internalsOf(libp2p).transportManager.getTransports().find((t) => typeof (t as { onStop?: unknown }).onStop === 'function') as { onStop: (stream: Stream, connection: Connection) => Promise<void> } | undefined
  if (transport == null) return
  await libp2p.handle(RELAY_STOP, async (stream, connection) => {
    if (!allow(connection.remotePeer.toString())) { stream.abort(new Error('not a relay this node uses')); return }
    await transport.onStop(stream, connection)
  }, { force: true, runOnLimitedConnection: true })
}

/** The circuit relay v2 hop protocol (the relay side of a reservation or circuit). */
export const RELAY_HOP_PROTOCOL = '/libp2p/circuit/relay/0.2.0/hop'

/**
 * Open or close a host's member relay (see `memberRelay` in libp2p-node.ts): its hop protocol is
 * handled (and announced by identify) only while open. The relay service keeps running either way
 * (the handler is the server's own `onHop`; stopping the service would abort its circuits for good).
 * A host without a member relay (none, or a public relay) is left as it is.
 */
export async function setMemberRelayOpen (libp2p: Libp2p, open: boolean): Promise<void> {
  const relay = (libp2p as unknown as { services: { relay?: { onHop?: (...args: never[]) => void } } }).services.relay
  if (memberRelayHosts.get(libp2p)?.service !== true || relay?.onHop == null) return
  const handled = libp2p.getProtocols().includes(RELAY_HOP_PROTOCOL)
  if (open && !handled) await libp2p.handle(RELAY_HOP_PROTOCOL, relay.onHop as unknown as Parameters<Libp2p['handle']>[1], { runOnLimitedConnection: true })
  if (!open && handled) await libp2p.unhandle(RELAY_HOP_PROTOCOL)
}
