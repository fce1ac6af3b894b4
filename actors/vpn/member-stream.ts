import type { PeerId, Stream } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import type { DmsLibp2p } from '../libp2p-node.js'
import { isRelayAddress } from '../../machines/reachability-rules.js'
import { isDirect } from '../direct-connection.js'

/**
 * A stream of `protocol` to a VPN member, on the best path there is: a direct
 * connection first (libp2p would take any); else, given the table's addresses of a
 * member reached only through a limited relay, through a relay without limits (the
 * leader's or the swarm owner's); else whatever libp2p dials. Says whether the
 * stream runs through a relay, so that a direct path found later can take over.
 */
export async function openMemberStream (libp2p: DmsLibp2p, peer: PeerId, protocol: string | string[], relayedAddresses?: string[]): Promise<{ stream: Stream, relayed: boolean }> {
  const direct = libp2p.getConnections(peer).find(isDirect)
  if (direct != null) return { stream: await direct.newStream(protocol), relayed: false }
  for (const address of (relayedAddresses ?? []).filter((a) => a.includes('/p2p-circuit'))) {
    try {
      if ((await libp2p.dial(multiaddr(`${address}/p2p/${peer.toString()}`))).limits == null) break
    } catch {
      // the next address, then libp2p's own choice
    }
  }
  const stream = await libp2p.dialProtocol(peer, protocol)
  const connection = libp2p.getConnections(peer).find((c) => c.streams.includes(stream))
  return { stream, relayed: connection != null && isRelayAddress(connection.remoteAddr.toString()) }
}
