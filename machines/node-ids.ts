import type { PeerRequest } from './peer.js'
import type { NetworkKind } from './contracts.js'

// Names the node machine gives its children, and the peer a dial target names: pure functions.

/** Child ids of the two hosts (also their systemIds). */
export const hostId = (network: NetworkKind): 'host.public' | 'host.private' => network === 'public' ? 'host.public' : 'host.private'

export const peerKey = (network: NetworkKind, peerId: string): string => `${network}:${peerId}`
export const peerSystemId = (network: NetworkKind, peerId: string): string => `peer.${network}.${peerId}`

/** The peer id a dial target names: the last /p2p/ component of a multiaddr, or the target itself. */
export function peerIdOfTarget (target: string): string | undefined {
  if (!target.startsWith('/')) return target
  const parts = target.split('/')
  const at = parts.lastIndexOf('p2p')
  return at >= 0 ? parts[at + 1] : undefined
}

/** The best thing to dial for a peer actor's request. */
export function dialTargetFor (request: Extract<PeerRequest, { type: 'peer.dial-requested' }>): string {
  const full = request.addresses.find((address) => address.endsWith(`/p2p/${request.peerId}`))
  if (full != null) return full
  const first = request.addresses[0]
  return first != null ? `${first}/p2p/${request.peerId}` : request.peerId
}
