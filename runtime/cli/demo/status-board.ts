import type { DemoContext } from './context.js'
import { shortId, table } from '../format.js'

/** A table of every node's peer actors: the live machine state the demo is about. */
export function statusBoard ({ nodes }: Pick<DemoContext, 'nodes'>): string {
  const rows = [['NODE', 'PEER ACTOR', 'NETWORK', 'STATE', 'CONNS', 'PROTOCOLS']]
  for (const { name, node } of nodes) {
    const status = node.status()
    const peers = status.peers
    if (peers.length === 0) rows.push([`${name} (${status.host.state})`, '-', '-', '-', '-', '-'])
    for (const [i, peer] of peers.entries()) {
      const peerName = nodes.find((n) => n.node.peerId === peer.peerId)?.name ?? shortId(peer.peerId)
      rows.push([i === 0 ? `${name} (${status.host.state})` : '', peerName, peer.network, peer.state, String(peer.connections), String(peer.protocols.length)])
    }
  }
  return table(rows)
}
