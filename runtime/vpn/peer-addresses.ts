import { peerIdFromString } from '@libp2p/peer-id'
import { relayReservations } from '../../actors/libp2p-internals.js'
import { multiaddr } from '@multiformats/multiaddr'
import type { DmsLibp2p } from '../../actors/libp2p-node.js'
import type { RoutingTable } from '../../machines/vpn-table.js'
import { DmsError } from '../errors.js'
import type { NodeComponents } from '../node-components.js'

/** A peer id in canonical form, or a VPN_BAD_MEMBER error. */
export function checkPeerId (peer: string): string {
  try {
    return peerIdFromString(peer).toString()
  } catch {
    throw new DmsError('BAD_PEER_ID', `${JSON.stringify(peer)} is not a peer id`)
  }
}

/** Peer ids from ids or multiaddrs; a multiaddr is dialled so its host is known. */
export async function resolvePeers (node: Pick<NodeComponents, 'dial' | 'identity'>, hosts: string[]): Promise<string[]> {
  const peers: string[] = []
  for (const host of hosts) {
    if (host.startsWith('/')) {
      let id: string | undefined
      try {
        id = multiaddr(host).getComponents().findLast((c) => c.name === 'p2p')?.value
      } catch {
        throw new DmsError('BAD_ADDRESS', `not a multiaddr: ${JSON.stringify(host.slice(0, 120))}`)
      }
      if (id == null) throw new DmsError('BAD_ADDRESS', `${host} has no /p2p/<peer id>`)
      await node.dial(host)
      peers.push(checkPeerId(id))
    } else {
      peers.push(checkPeerId(host))
    }
  }
  if (peers.includes(node.identity.peerId())) throw new DmsError('VPN_BAD_MEMBER', 'list the other peers: this node is always in its own VPN')
  if (new Set(peers).size !== peers.length) throw new DmsError('VPN_BAD_MEMBER', 'a peer is listed twice')
  return peers
}

/** Known listen addresses of peers (this node's own included), for members to dial each other. */
export async function addressesOf (node: Pick<NodeComponents, 'hosts' | 'identity'>, peers: string[]): Promise<Record<string, string[]>> {
  const libp2p = node.hosts.libp2p(node.hosts.libp2p('private') != null ? 'private' : 'public')
  const strip = (address: { toString: () => string }): string => address.toString().replace(/\/p2p\/[^/]+$/, '')
  const out: Record<string, string[]> = {}
  for (const peer of peers) {
    if (peer === node.identity.peerId()) { out[peer] = (libp2p?.getMultiaddrs() ?? []).map(strip); continue }
    // identify's listen addresses; an inbound connection's remote address is only the dialler's ephemeral port
    const known = await libp2p?.peerStore.get(peerIdFromString(peer)).then((p) => p.addresses.map((a) => strip(a.multiaddr)), () => []) ?? []
    const direct = known.length > 0 ? known : (libp2p?.getConnections(peerIdFromString(peer)) ?? []).map((c) => strip(c.remoteAddr))
    // the relayed address first: the table keeps a few addresses, and it may be the only one that works
    out[peer] = [...throughThisRelay(libp2p, peer), ...direct]
  }
  return out
}

/**
 * A peer that holds a reservation on this node's relay (a swarm member behind NAT, on its
 * owner) is reachable through this node; libp2p never stores a peer's addresses through
 * ourselves, so other members learn them from the table.
 */
function throughThisRelay (libp2p: DmsLibp2p | undefined, peer: string): string[] {
  if (libp2p == null || !relayReservations(libp2p).has(peer)) return []
  return libp2p.getMultiaddrs().map(String).filter((address) => !address.includes('/p2p-circuit')).map((address) => `${address}/p2p-circuit`)
}

/** Tell a host where the table's members listen (a restarted host has an empty peer store). */
export function learnAddresses (libp2p: DmsLibp2p | undefined, table: RoutingTable, self: string): void {
  for (const [peer, member] of Object.entries(table.members)) {
    if (peer === self || member.addresses.length === 0) continue
    try {
      void libp2p?.peerStore.merge(peerIdFromString(peer), { multiaddrs: member.addresses.map((a) => multiaddr(a)) }).catch(() => {}) // a stopping host's store: the next table teaches the next host
    } catch {
      // an unparsable address is skipped; the others still help
    }
  }
}

/** The relay a host reaches `peer` through when every connection to it is relayed; undefined when one is direct, or there is none. */
export function relayOf (libp2p: DmsLibp2p | undefined, peer: string): string | undefined {
  let connections
  try {
    connections = libp2p?.getConnections(peerIdFromString(peer)) ?? []
  } catch {
    return undefined
  }
  if (connections.length === 0) return undefined
  // the relay the VPN uses: one without limits, when there is one
  const relays = [...connections].sort((a, b) => Number(a.limits != null) - Number(b.limits != null)).map((c) => /\/p2p\/([^/]+)\/p2p-circuit/.exec(c.remoteAddr.toString())?.[1])
  return relays.every((relay) => relay != null) ? relays[0] : undefined
}

/** How this node reaches a member: directly, through a relay without limits (the swarm's), only a limited relay, or not at all. */
export type MemberPath = 'direct' | 'relayed' | 'limited' | 'none'

export function pathOf (libp2p: DmsLibp2p | undefined, peer: string): MemberPath {
  let connections
  try {
    connections = libp2p?.getConnections(peerIdFromString(peer)) ?? []
  } catch {
    return 'none'
  }
  if (connections.some((c) => !c.remoteAddr.toString().includes('/p2p-circuit'))) return 'direct'
  if (connections.some((c) => c.limits == null)) return 'relayed'
  return connections.length > 0 ? 'limited' : 'none'
}

/** Why a member has no path the VPN can use, or undefined when it has one. */
export function pathProblem (path: MemberPath): string | undefined {
  if (path === 'limited') return 'no usable path: only a limited relay (a public relay with limits carries no VPN traffic); it needs a direct path (open its port, or hole punching) or the swarm\'s relay'
  if (path === 'none') return 'no path: not connected (unreachable from here: behind NAT without a relay, or offline)'
  return undefined
}
