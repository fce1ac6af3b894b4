// The public events and status types live beside the machines that produce them (machines/contracts.ts).
import type { NodeEventType } from '../machines/contracts.js'
import { DmsError } from './errors.js'
export type {
  NodeEventMap, NodeEventType, NodeEvent, NetworkKind, PeerConnectedness, PeerStatus, PeerLink, HostState, HostStatus, DiscoveryStatus, NodeStatus
} from '../machines/contracts.js'

/** Every public event type, for checking what a user asks for (`dms-net events --type`) and completion. */
export const NODE_EVENT_TYPES = [
  'host.started', 'host.stopped', 'host.failed', 'host.listening',
  'peer.discovered', 'peer.connected', 'peer.disconnected', 'peer.identified', 'peer.reconnect-failed', 'peer.redialing',
  'self.updated', 'connection.opened', 'connection.closed', 'connection.relayed', 'connection.upgraded',
  'messenger.error', 'actor.failed', 'job.received',
  'swarm.revoked', 'swarm.joined', 'swarm.rotated', 'swarm.left', 'swarm.evicted',
  'vpn.changed', 'vpn.error', 'vpn.member.unreachable', 'reachability.changed', 'relay.reserved', 'relay.lost', 'holepunch.failed'
] as const satisfies readonly NodeEventType[]

// a new event in NodeEventMap that this list lacks fails the type check here
type Unlisted = Exclude<NodeEventType, typeof NODE_EVENT_TYPES[number]>
const everyTypeListed: [Unlisted] extends [never] ? true : Unlisted = true
void everyTypeListed

/** Refuse a subscription that could never be called: an event type no node emits (a typo), or a listener that is not a function. */
export function checkSubscription (type: unknown, listener: unknown): void {
  if (type !== '*' && !(NODE_EVENT_TYPES as readonly unknown[]).includes(type)) {
    throw new DmsError('INVALID', `no event ${JSON.stringify(type) ?? typeof type} (NODE_EVENT_TYPES lists them; '*' is every event)`)
  }
  if (typeof listener !== 'function') throw new DmsError('INVALID', `the listener of ${String(type)} must be a function (got ${typeof listener})`)
}
