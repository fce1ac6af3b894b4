// The vocabulary machines and the runtime share: pure types, no code. machines/ may
// import only xstate and each other (bin/check-layers.js); actors/ and runtime/ import from here.

/**
 * A request for bids on a job, published by the node that wants the job run.
 * Compute providers that can run it answer the requester (e.g. with `node.send`).
 */
export interface BidRequest {
  /** Unique job id chosen by the requester (1-128 characters). */
  jobId: string
  /** What the job needs. */
  resources: {
    /** CPU cores (may be fractional), > 0. */
    cpuCores: number
    /** Memory in MB, > 0. */
    memoryMb: number
    /** Disk in MB, >= 0. @default 0 */
    diskMb?: number
    /** GPUs, >= 0. @default 0 */
    gpus?: number
  }
  /** The most the requester will pay. */
  price: { max: number, currency: string }
  /** Bids are accepted until this time, ms since epoch. */
  deadline: number
  /** Peer id of the requester; receivers check it equals the gossipsub message's signed author. */
  requester: string
  /** Free-form labels (e.g. `{ arch: 'x86_64' }`), at most 32, short strings only. */
  labels?: Record<string, string>
}

/**
 * The events an embedder can subscribe to with `node.on(type, fn)`, and that the
 * CLI prints. One table: event name → payload. Peer ids are strings.
 */
export interface NodeEventMap {
  'host.started': { network: NetworkKind, peerId: string, addresses: string[] }
  'host.stopped': { network: NetworkKind }
  /** `code` is ADDRESS_IN_USE when the port was taken, HOST_START_FAILED otherwise. */
  'host.failed': { network: NetworkKind, code: 'ADDRESS_IN_USE' | 'HOST_START_FAILED', error: string }
  'host.listening': { network: NetworkKind, addresses: string[] }
  /** `network`: the host the peer is known on (a private swarm member may be on both). */
  'peer.discovered': { network: NetworkKind, peerId: string }
  'peer.connected': { network: NetworkKind, peerId: string }
  'peer.disconnected': { network: NetworkKind, peerId: string }
  'peer.identified': { network: NetworkKind, peerId: string, protocols: string[], agentVersion?: string }
  'peer.reconnect-failed': { network: NetworkKind, peerId: string }
  'peer.redialing': { peerId: string, attempt: number, delayMs: number }
  'self.updated': { addresses: string[] }
  'connection.opened': { network: NetworkKind, peerId: string, remoteAddr: string, direction: 'inbound' | 'outbound' }
  'connection.closed': { network: NetworkKind, peerId: string, remoteAddr: string }
  'messenger.error': { code: string, message: string, peer?: string }
  /** A feature actor (swarm, VPN, discovery, an embedder's own) failed; the node and the others keep running. */
  'actor.failed': { systemId: string, error: string }
  /** This node, owner of a private swarm, revoked a member: its key is rotated away, and a VPN this node leads in the swarm drops it. */
  'swarm.revoked': { peer: string, epoch: number }
  /** This node, a member, is in its owner's private swarm (after `join` or a restore). */
  'swarm.joined': { owner: string, epoch: number }
  /** This member moved onto the owner's new key. */
  'swarm.rotated': { owner: string, epoch: number }
  /** This member left the swarm and is back on the public network. */
  'swarm.left': { owner: string, epoch: number }
  /** The owner revoked this member and told it so (or refused it on its way back): it is back on the public network. */
  'swarm.evicted': { owner: string, epoch: number }
  /** A job bid request arrived over gossipsub (validated; `from` is its signed author). */
  'job.received': { from: string, bid: BidRequest }
  /** The VPN changed state or applied a new table version. */
  'vpn.changed': { state: string, role: 'leader' | 'member' | 'none', version?: number, ip?: string, members: number }
  'vpn.error': { message: string }
  /** Leader: a member could not be given the table (every try failed), and why: it has no usable path. */
  'vpn.member.unreachable': { peer: string, reason: string }
  /** Whether others can reach this host directly changed (docs/discovery.md). */
  'reachability.changed': { network: NetworkKind, reachability: 'public' | 'private', addresses: string[] }
  /** A relay now holds a reservation for this host: peers can reach it through the relay. */
  'relay.reserved': { network: NetworkKind, relay: string }
  /** A relay reservation ended (the relay went away or refused a renewal). */
  'relay.lost': { network: NetworkKind, relay: string }
  /** A peer is connected only through a relay. */
  'connection.relayed': { network: NetworkKind, peerId: string }
  /** A peer reached through a relay is now connected directly (DCUtR or a TCP hole punch). */
  'connection.upgraded': { network: NetworkKind, peerId: string, remoteAddr: string }
  /** A hole punch with a relayed peer found no direct path; the connection stays relayed. */
  'holepunch.failed': { network: NetworkKind, peerId: string, reason: string }
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
  /** The open connections, as the host sees them (absent from the pure status of the actors alone). */
  links?: PeerLink[]
}

/** One open connection to a peer. */
export interface PeerLink {
  /** The remote address, `/p2p-circuit` in it when relayed. */
  address: string
  /** Who dialled: `outbound`, this node. */
  direction: 'inbound' | 'outbound'
  relayed: boolean
  /** The last round trip libp2p's connection monitor measured on it, in ms. */
  rttMs?: number
}

export type HostState = 'idle' | 'configured' | 'starting' | 'running' | 'stopping' | 'stopped' | 'failed'

/** Discovery and reachability of one host, as status shows it. */
export interface DiscoveryStatus {
  network: NetworkKind
  /** The mechanisms switched on, e.g. `dht /dms/kad/1.0.0`, `relay-client`. */
  mechanisms: string[]
  reachability: 'unknown' | 'public' | 'private'
  relay: 'off' | 'searching' | 'reserved'
  /** Relays holding a reservation for this host. */
  relays: string[]
  /** Peers found, by source. */
  found: { bootstrap: number, dht: number, mdns: number, rendezvous: number }
  /** Peers reached only through a relay now. */
  relayedPeers: string[]
  /** Peers whose relayed connection was upgraded to a direct one. */
  upgradedPeers: string[]
  /** Peers connected directly by a TCP hole punch, with the address it reached. */
  punched: Array<{ peerId: string, remoteAddr: string }>
  /** Relayed peers whose last hole punch failed, and why. */
  noDirectPath: Array<{ peerId: string, reason: string }>
  rendezvous?: { namespace: string, rounds: number, providers: number, dialled: number, lastError?: string }
}

export interface HostStatus {
  state: HostState
  network: NetworkKind
  /** What the host announces to other peers (libp2p's own view, with this node's id). */
  addresses: string[]
  /**
   * Where the host's transports are bound: what `listen` asked for, with the ports the
   * system chose, with this node's id (Kubo's `swarm addrs local`). One of these that is
   * not in `addresses` is unconfirmed: a public IP is announced only once AutoNAT (or
   * `announce`) confirms it.
   */
  listening?: string[]
  error?: string
}

export interface NodeStatus {
  peerId: string
  host: HostStatus
  /** The private host, while this node is in a private swarm. */
  privateHost?: HostStatus
  peers: PeerStatus[]
  /** One entry per running host. */
  discovery: DiscoveryStatus[]
  /** The bid-request topic on each running host: peers subscribed to it, and those in this node's gossipsub mesh. */
  jobs: Array<{ network: NetworkKind, topic: string, subscribers: number, mesh: number }>
}

/** A running libp2p node as machines see it: a handle they keep in context and pass to the effects the runtime provides. */
export interface Libp2pHandle {
  readonly peerId: { toString: () => string }
  getMultiaddrs: () => Array<{ toString: () => string }>
}

/** Facts the libp2p bridge reports to its host actor, one per libp2p event. */
export type BridgeEvent =
  | { type: 'libp2p.started' }
  | { type: 'libp2p.stopped' }
  | { type: 'libp2p.peer.discovered', peerId: string, addresses: string[] }
  | { type: 'libp2p.peer.connected', peerId: string }
  | { type: 'libp2p.peer.disconnected', peerId: string }
  | { type: 'libp2p.peer.reconnect-failed', peerId: string }
  | { type: 'libp2p.peer.identified', peerId: string, protocols: string[], agentVersion?: string, addresses: string[] }
  | { type: 'libp2p.peer.updated', peerId: string, addresses: string[], protocols: string[] }
  | { type: 'libp2p.self.updated', addresses: string[] }
  | { type: 'libp2p.transport.listening', addresses: string[] }
  | { type: 'libp2p.transport.closed', addresses: string[] }
  | { type: 'libp2p.connection.opened', peerId: string, connectionId: string, remoteAddr: string, direction: 'inbound' | 'outbound' }
  | { type: 'libp2p.connection.closed', peerId: string, connectionId: string, remoteAddr: string }
  | { type: 'libp2p.connection.pruned', peerIds: string[] }
  | { type: 'libp2p.bridge.failed', libp2pEvent: string, error: string }

/** A dial or listen a host runs as a child actor, keyed by request id. */
export type HostOperation =
  | { kind: 'dial', reqId: string, target: string, timeoutMs?: number }
  | { kind: 'listen', reqId: string, address: string }

export type HostOperationEvent =
  | { type: 'host.operation.done', reqId: string, result: unknown }
  | { type: 'host.operation.failed', reqId: string, error: string }
