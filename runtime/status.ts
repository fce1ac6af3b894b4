import type { Actor } from 'xstate'
import type { nodeMachine } from '../machines/node.js'
import type { HostState, HostStatus, NodeStatus, PeerConnectedness, PeerLink, PeerStatus } from './events.js'
import { isRelayed } from '../actors/ping-client.js'
import { listeningAddresses, meshPeerCount } from '../actors/libp2p-internals.js'
import { asLibp2p } from '../actors/libp2p-node.js'
import type { Libp2pHandle } from '../machines/contracts.js'
import { BID_REQUEST_TOPIC } from '../actors/wire/bid-request.js'
import type { DiscoveryConfig } from '../actors/discovery/discovery-config.js'
import { discoverySystemId } from './discovery/discovery-attachment.js'
import { readDiscoveryStatus } from './discovery/discovery-status.js'
import type { FeatureActors } from './feature-actors.js'
import type { HostControl } from './host-control.js'

/** The whole status of a node: its root's, and each running host's discovery and bid-request topic. */
export function readNodeStatus (init: { root: Actor<typeof nodeMachine> | undefined, peerId: string, rootError: string | undefined, hosts: HostControl, features: FeatureActors, discovery: DiscoveryConfig, stopped: boolean }): NodeStatus {
  const discovery = (['public', 'private'] as const).flatMap((network) => {
    const snapshot = init.features.get(discoverySystemId(network))?.getSnapshot() as Parameters<typeof readDiscoveryStatus>[0] | undefined
    if (snapshot == null) return []
    const status = readDiscoveryStatus(snapshot, init.discovery)
    // a swarm member's private host reserves on the owner's relay by itself, outside discovery's relay client
    const held = reservedRelays(init.hosts, network)
    return [status.relay === 'off' && held.length > 0 ? { ...status, relay: 'reserved' as const, relays: held } : status]
  })
  const jobs = (['public', 'private'] as const).flatMap((network) => {
    const pubsub = init.hosts.libp2p(network)?.services.pubsub
    if (pubsub == null) return []
    return [{ network, topic: BID_REQUEST_TOPIC, subscribers: pubsub.getSubscribers(BID_REQUEST_TOPIC).length, mesh: meshPeerCount(pubsub, BID_REQUEST_TOPIC) }]
  })
  const status = readStatus(init.root, init.peerId, init.rootError, init.stopped)
  return { ...status, peers: withLinks(status.peers, init.hosts), discovery, jobs }
}

/** The relays a host holds a reservation on, read from its own addresses (`…/p2p/RELAY/p2p-circuit`). */
function reservedRelays (hosts: HostControl, network: 'public' | 'private'): string[] {
  const relays = (hosts.libp2p(network)?.getMultiaddrs() ?? []).flatMap((address) => /\/p2p\/([^/]+)\/p2p-circuit/.exec(address.toString())?.[1] ?? [])
  return [...new Set(relays)]
}

/** Each peer with its open connections on the host that knows it. */
function withLinks (peers: PeerStatus[], hosts: HostControl): PeerStatus[] {
  const links = new Map<string, PeerLink[]>()
  for (const network of ['public', 'private'] as const) {
    for (const connection of hosts.libp2p(network)?.getConnections() ?? []) {
      if (connection.status !== 'open') continue
      const key = `${network} ${connection.remotePeer.toString()}`
      const link: PeerLink = { address: connection.remoteAddr.toString(), direction: connection.direction, relayed: isRelayed(connection), ...(connection.rtt != null ? { rttMs: connection.rtt } : {}) }
      links.set(key, [...(links.get(key) ?? []), link])
    }
  }
  return peers.map((peer) => ({ ...peer, links: links.get(`${peer.network} ${peer.peerId}`) ?? [] }))
}

/** Read the node's status from its actors' snapshots (no I/O). */
export function readStatus (root: Actor<typeof nodeMachine> | undefined, peerId: string, rootError?: string, stopped = false): Omit<NodeStatus, 'discovery' | 'jobs'> {
  // a node with no actor system was never started (idle), or was stopped
  if (root == null) return { peerId, host: { state: stopped ? 'stopped' : 'idle', network: 'public', addresses: [] }, peers: [] }
  const host = hostStatus(root.system.get('host.public')?.getSnapshot() as HostSnapshot | undefined, rootError)
  const privateHost = root.system.get('host.private')?.getSnapshot() as HostSnapshot | undefined
  const peers: PeerStatus[] = Object.values(root.getSnapshot().context.peers).map((ref) => {
    const snapshot = ref.getSnapshot()
    const context = snapshot.context
    return {
      peerId: context.peerId,
      network: context.network,
      state: snapshot.value as PeerConnectedness,
      connections: context.connections.length,
      protocols: context.protocols,
      addresses: context.addresses,
      bootstrap: context.bootstrap,
      ...(context.agentVersion != null ? { agentVersion: context.agentVersion } : {}),
      ...(context.lastError != null ? { lastError: context.lastError } : {})
    }
  }).sort((a, b) => a.network.localeCompare(b.network) || a.peerId.localeCompare(b.peerId))
  return { peerId, host, ...(privateHost != null ? { privateHost: hostStatus(privateHost) } : {}), peers }
}

type HostSnapshot = { value: string | Record<string, string>, context: { addresses: string[], error?: string, network: 'public' | 'private', libp2p?: Libp2pHandle } }

/** A running host actor's status (state name, addresses, error), for status output; undefined when there is none. */
export function hostStatusOf (actor: { getSnapshot: () => unknown } | undefined): HostStatus | undefined {
  return actor == null ? undefined : hostStatus(actor.getSnapshot() as HostSnapshot)
}

function hostStatus (host: HostSnapshot | undefined, rootError?: string): HostStatus {
  const state: HostState = host == null
    ? 'idle'
    : typeof host.value === 'string' ? host.value as HostState : (Object.values(host.value)[0] as HostState)
  const error = host?.context.error ?? rootError
  const listening = host?.context.libp2p != null ? listeningAddresses(asLibp2p(host.context.libp2p)) : []
  return { state, network: host?.context.network ?? 'public', addresses: host?.context.addresses ?? [], ...(listening.length > 0 ? { listening } : {}), ...(error != null ? { error } : {}) }
}
