import type { NodeEvent } from './contracts.js'
import type { NodeMachineEvent } from './node.js'

/** Bridge facts → public event, for the events an embedder sees. */
export function toPublicEvent (event: NodeMachineEvent): NodeEvent | undefined {
  switch (event.type) {
    case 'host.started': return { type: 'host.started', network: event.network, peerId: event.peerId, addresses: event.addresses }
    case 'host.stopped': return { type: 'host.stopped', network: event.network }
    case 'host.failed': return { type: 'host.failed', network: event.network, code: event.code, error: event.error }
    case 'libp2p.transport.listening': return { type: 'host.listening', network: event.network, addresses: event.addresses }
    case 'libp2p.peer.discovered': return { type: 'peer.discovered', network: event.network, peerId: event.peerId }
    case 'libp2p.peer.connected': return { type: 'peer.connected', network: event.network, peerId: event.peerId }
    case 'libp2p.peer.disconnected': return { type: 'peer.disconnected', network: event.network, peerId: event.peerId }
    case 'libp2p.peer.reconnect-failed': return { type: 'peer.reconnect-failed', network: event.network, peerId: event.peerId }
    case 'libp2p.peer.identified': return {
      type: 'peer.identified', network: event.network, peerId: event.peerId, protocols: event.protocols, ...(event.agentVersion != null ? { agentVersion: event.agentVersion } : {})
    }
    // before the transports listen libp2p reports its (empty) address list several times: not news
    case 'libp2p.self.updated': return event.addresses.length > 0 ? { type: 'self.updated', addresses: event.addresses } : undefined
    case 'libp2p.connection.opened': return { type: 'connection.opened', network: event.network, peerId: event.peerId, remoteAddr: event.remoteAddr, direction: event.direction }
    case 'libp2p.connection.closed': return { type: 'connection.closed', network: event.network, peerId: event.peerId, remoteAddr: event.remoteAddr }
    default: return undefined
  }
}

/** Bridge facts that concern one peer: the node routes them to that peer's actor. */
export const PEER_FACT_TYPES = [
  'libp2p.peer.discovered', 'libp2p.peer.connected', 'libp2p.peer.disconnected', 'libp2p.peer.identified',
  'libp2p.peer.updated', 'libp2p.peer.reconnect-failed', 'libp2p.connection.opened', 'libp2p.connection.closed'
] as const
export const peerFactTypes = new Set<string>(PEER_FACT_TYPES)
