/**
 * The events an embedder can subscribe to with `node.on(type, fn)`, and that the
 * CLI prints. One table: event name → payload. Peer ids are strings.
 */
export interface NodeEventMap {
  'host.started': { network: NetworkKind, peerId: string, addresses: string[] }
  'host.stopped': { network: NetworkKind }
  'host.failed': { network: NetworkKind, error: string }
  'host.listening': { network: NetworkKind, addresses: string[] }
  'peer.discovered': { peerId: string }
  'peer.connected': { peerId: string }
  'peer.disconnected': { peerId: string }
  'peer.identified': { peerId: string, protocols: string[], agentVersion?: string }
  'peer.reconnect-failed': { peerId: string }
  'peer.redialing': { peerId: string, attempt: number, delayMs: number }
  'self.updated': { addresses: string[] }
  'connection.opened': { peerId: string, remoteAddr: string, direction: 'inbound' | 'outbound' }
  'connection.closed': { peerId: string, remoteAddr: string }
  'messenger.error': { code: string, message: string, peer?: string }
  /** The VPN changed state or applied a new table version. */
  'vpn.changed': { state: string, role: 'leader' | 'member' | 'none', version?: number, ip?: string, members: number }
  'vpn.error': { message: string }
}

export type NodeEventType = keyof NodeEventMap

/** An event with its name, as it travels through `on('*')`, the control socket and logs. */
export type NodeEvent = { [K in NodeEventType]: { type: K } & NodeEventMap[K] }[NodeEventType]

/** Which libp2p host an event or status belongs to. */
export type NetworkKind = 'public' | 'private'

/** A peer actor's connectedness, as status shows it. */
export type PeerConnectedness = 'disconnected' | 'dialing' | 'connected' | 'identified'

export interface PeerStatus {
  peerId: string
  /** Which host knows this peer. */
  network: NetworkKind
  state: PeerConnectedness
  connections: number
  protocols: string[]
  addresses: string[]
  agentVersion?: string
  bootstrap: boolean
  lastError?: string
}

export type HostState = 'idle' | 'configured' | 'starting' | 'running' | 'stopping' | 'stopped' | 'failed'

export interface NodeStatus {
  peerId: string
  host: { state: HostState, network: NetworkKind, addresses: string[], error?: string }
  peers: PeerStatus[]
}
