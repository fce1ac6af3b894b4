import type { Actor } from 'xstate'
import type { nodeMachine } from '../machines/node.js'
import type { HostState, NodeStatus, PeerConnectedness, PeerStatus } from './events.js'

/** Read the node's status from its actors' snapshots (no I/O). */
export function readStatus (root: Actor<typeof nodeMachine> | undefined, peerId: string, rootError?: string): Omit<NodeStatus, 'discovery' | 'jobs'> {
  if (root == null) return { peerId, host: { state: 'idle', network: 'public', addresses: [] }, peers: [] }
  const host = root.system.get('host.public')?.getSnapshot() as
    | { value: string | Record<string, string>, context: { addresses: string[], error?: string, network: 'public' | 'private' } }
    | undefined
  const hostState: HostState = host == null
    ? 'idle'
    : typeof host.value === 'string' ? host.value as HostState : (Object.values(host.value)[0] as HostState)
  const error = host?.context.error ?? rootError
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
  return {
    peerId,
    host: { state: hostState, network: host?.context.network ?? 'public', addresses: host?.context.addresses ?? [], ...(error != null ? { error } : {}) },
    peers
  }
}
