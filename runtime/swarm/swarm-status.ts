import type { SnapshotFrom } from 'xstate'
import type { NodeComponents } from '../node-components.js'
import type { swarmOwnerMachine } from '../../machines/swarm-owner.js'
import type { swarmMemberMachine } from '../../machines/swarm-member.js'
import type { HostControl } from '../host-control.js'
import { hostStatusOf } from '../status.js'
import type { KeyEndpointStats } from './key-endpoint.js'
import type { DenialReason } from './key-exchange.js'

/** Key requests denied, by reason. */
export type DenialCounts = Partial<Record<DenialReason, number>>

export interface SwarmStatus {
  role: 'owner' | 'member' | 'none'
  state: string
  epoch: number
  /** Names the current key; the key itself is never shown. */
  fingerprint?: string
  authorised: string[]
  members: string[]
  owner?: string
  bootstrap: string[]
  privateHost?: string
  privatePeers: string[]
  /** Owner: key requests waiting their turn. */
  queued?: number
  /** Member: it holds a slot on the owner's relay, so members behind NAT reach it through the owner: "relayed via <owner>". */
  relay?: string
  lastError?: string
  /** The key exchange's counters: streams, rate-limited, malformed, and denials by reason. */
  keyExchange: KeyEndpointStats & { denied: DenialCounts }
}

export interface SwarmStatusSources {
  hosts: HostControl
  owner?: SnapshotFrom<typeof swarmOwnerMachine>
  member?: SnapshotFrom<typeof swarmMemberMachine>
  /** The owner machine would take a create (it runs no swarm). */
  ownerIsFree: boolean
  /** The member machine would take a join (it is in no swarm, nor on its way in or out). */
  memberIsFree: boolean
  keyExchange: SwarmStatus['keyExchange']
}

/** A swarm's status, read from its machines' snapshots and the private host (no I/O). */
export function swarmStatus (sources: SwarmStatusSources): SwarmStatus {
  const { hosts, owner, member } = sources
  const privatePeers = [...new Set((hosts.libp2p('private')?.getConnections() ?? []).map((c) => c.remotePeer.toString()))].sort()
  const privateHost = hostStatusOf(hosts.actor('private'))?.state
  const common = { privatePeers, ...(privateHost != null ? { privateHost } : {}), keyExchange: sources.keyExchange }
  // an owner back in idle (it dissolved its swarm) owns nothing: role none, as before it created one
  const dissolved = owner != null && sources.ownerIsFree && stateName(owner.value) === 'idle'
  if (owner != null && !dissolved && !(sources.ownerIsFree && member != null)) {
    const { context } = owner
    return {
      role: 'owner', state: stateName(owner.value), epoch: context.epoch, ...(context.fingerprint != null ? { fingerprint: context.fingerprint } : {}),
      authorised: context.authorised, members: context.members, bootstrap: context.bootstrap, queued: context.queue.length,
      ...(context.lastError != null ? { lastError: context.lastError } : {}), ...common
    }
  }
  // a member that left (or was evicted) is in no swarm: role none, and why it left
  if (member != null && sources.memberIsFree) {
    return { role: 'none', state: 'idle', epoch: 0, authorised: [], members: [], bootstrap: [], ...(member.context.lastError != null ? { lastError: member.context.lastError } : {}), ...common }
  }
  if (member != null) {
    const { context } = member
    return {
      role: 'member', state: stateName(member.value), epoch: context.epoch, ...(context.fingerprint != null ? { fingerprint: context.fingerprint } : {}),
      authorised: [], members: [], ...(context.owner != null ? { owner: context.owner } : {}), bootstrap: context.bootstrap,
      ...(context.owner != null && reservedOn(hosts, context.owner) ? { relay: `relayed via ${context.owner}` } : {}),
      ...(context.lastError != null ? { lastError: context.lastError } : {}), ...common
    }
  }
  return { role: 'none', state: 'idle', epoch: 0, authorised: [], members: [], bootstrap: [], ...common }
}

/** Whether the private host holds a reservation on `relay` (it announces an address through it). */
function reservedOn (hosts: HostControl, relay: string): boolean {
  return (hosts.libp2p('private')?.getMultiaddrs() ?? []).some((address) => address.toString().includes(`/p2p/${relay}/p2p-circuit`))
}

/** The innermost state: `running.active` reads as `active`. */
const stateName = (value: unknown): string => typeof value === 'string' ? value : stateName(Object.values(value as Record<string, unknown>)[0])

/** The swarm's metrics, read from its status at each scrape. */
export function registerSwarmMetrics (metrics: NodeComponents['metrics'], status: () => SwarmStatus): void {
  metrics.gauge('dms_swarm_epoch', 'The private swarm key\'s epoch (0: no swarm), by role.', ['role'], () => { const s = status(); return [[{ role: s.role }, s.epoch]] })
  metrics.gauge('dms_swarm_authorised', 'Peers authorised to ask for the key (owner).', [], () => [[{}, status().authorised.length]])
  metrics.gauge('dms_swarm_private_peers', 'Peers connected on the private host.', [], () => [[{}, status().privatePeers.length]])
  metrics.counter('dms_swarm_key_streams_total', 'Key exchange streams opened to this node, and how many were rate-limited, malformed or refused.', ['outcome'], () => {
    const { streams, rateLimited, malformed, refused } = status().keyExchange
    return [[{ outcome: 'opened' }, streams], [{ outcome: 'rate_limited' }, rateLimited], [{ outcome: 'malformed' }, malformed], [{ outcome: 'refused' }, refused]]
  })
  metrics.counter('dms_swarm_key_denials_total', 'Key requests denied, by reason.', ['reason'], () =>
    Object.entries(status().keyExchange.denied).map(([reason, count]) => [{ reason }, count ?? 0]))
}
