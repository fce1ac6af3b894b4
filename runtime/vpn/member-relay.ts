import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import type { NodeComponents } from '../node-components.js'
import type { NetworkKind } from '../events.js'
import type { MemberRelay } from '../../actors/libp2p-node.js'
import type { RoutingTable } from '../../machines/vpn-table.js'
import type { VpnEdit } from '../../machines/vpn.js'
import { guardRelayedDials, internalsOf, relayReservations, setMemberRelayOpen } from '../../actors/libp2p-internals.js'
import { traced, type Logger } from '../../actors/log.js'
import { addressesOf } from './peer-addresses.js'

export interface MemberRelayDeps {
  node: Pick<NodeComponents, 'hosts' | 'identity'>
  log: Logger
  /** The table in use and the host the VPN runs on, if any. */
  current: () => { table?: RoutingTable, network?: NetworkKind } | undefined
  /** Hand an edit to the routing machine (the leader's new addresses for its members). */
  send: (edit: VpnEdit) => void
}

/** How long the leader waits after a new slot before it publishes the members' relayed addresses (several come together). */
const REFRESH_AFTER_MS = 300
/** How long a member waits before it asks the same leader for a slot again (after a leader restart, say). */
const ASK_AGAIN_MS = 60_000

/**
 * A public VPN's own relay, as a private swarm has its owner's: the leader's public host relays
 * its members without data or time limits, and only them (a slot for a member, a circuit between
 * two members); a member that dialled the leader (it may be behind NAT; one the leader dialled is
 * reachable) holds a slot on it, so members behind NAT reach each other through the leader, and go
 * direct once a hole punch finds a path. After a new slot, the leader publishes a table version
 * with that member's address through the relay. A member removed from the table, or every member
 * when the VPN closes, is hung up on: no circuit outlives its membership.
 * A VPN inside a private swarm does not use it: the swarm owner relays on the private host.
 */
export class VpnMemberRelay {
  private refreshTimer?: NodeJS.Timeout
  /** Members that took a new slot since the last published version. */
  private readonly fresh = new Set<string>()
  /** The members the relay served at the last version (leader), to cut those that left. */
  private served = new Set<string>()
  private reserving = false
  /** The last slot asked for, and when: libp2p keeps each listener it is given, so asking again waits a minute. */
  private asked?: { address: string, at: number }

  constructor (private readonly deps: MemberRelayDeps) {
    deps.node.hosts.setMemberRelay(this.policy)
    deps.node.hosts.addAttachment({
      name: 'vpn member relay',
      networks: ['public'],
      attach: async (libp2p) => {
        // a relayed connection is taken only from this node's VPN leader (or a relay it chose itself)
        await guardRelayedDials(libp2p, (peer) => peer === this.leaderToFollow())
        // the relay is open only while this node leads a public VPN: a new public host starts closed
        await setMemberRelayOpen(libp2p, this.leading())
      },
      detach: async () => {}
    })
  }

  /** Who may use the public host's relay: asked by libp2p at each reservation and each circuit. */
  readonly policy: MemberRelay = {
    reserve: (peer) => {
      if (!this.leadsPublicVpnWith(peer)) return false
      // a renewal changes nothing; a new slot gives the member a relayed address to publish
      if (!relayReservations(this.deps.node.hosts.libp2p('public')).has(peer)) { this.fresh.add(peer); this.refreshSoon() }
      return true
    },
    connect: (source, destination) => this.leadsPublicVpnWith(source) && this.leadsPublicVpnWith(destination)
  }

  /** Told of every state and version the VPN records. */
  follow (state: string, table: RoutingTable | undefined): void {
    const libp2p = this.deps.node.hosts.libp2p('public')
    const leading = state === 'running' && this.leading()
    if (libp2p != null) setMemberRelayOpen(libp2p, leading).catch(traced(this.deps.log, 'open or close the VPN member relay'))
    this.cutFormerMembers(leading ? table : undefined)
    const leader = this.leaderToFollow()
    if (leader != null && table != null && !this.reserving) {
      this.reserving = true
      this.reserveOn(table).catch(traced(this.deps.log, 'take a slot on the VPN leader\'s relay')).finally(() => { this.reserving = false })
    }
  }

  /** Forget the timer (the VPN stopped, or the node). */
  close (): void {
    clearTimeout(this.refreshTimer)
    this.refreshTimer = undefined
    this.fresh.clear()
    this.asked = undefined
  }

  /** This node leads a public VPN that is not closed. */
  private leading (): boolean {
    const current = this.deps.current()
    return current?.network === 'public' && current.table != null && !current.table.closed && current.table.leader === this.deps.node.identity.peerId()
  }

  private leadsPublicVpnWith (peer: string): boolean {
    return this.leading() && this.deps.current()?.table?.members[peer] != null
  }

  /** The leader of the public VPN this node is a member of (not leads), if any. */
  private leaderToFollow (): string | undefined {
    const current = this.deps.current()
    const table = current?.table
    if (current?.network !== 'public' || table == null || table.closed || table.leader === this.deps.node.identity.peerId()) return undefined
    return table.leader
  }

  /** Leader: hang up on the members the relay served that are members no more (all, when it stops leading). */
  private cutFormerMembers (table: RoutingTable | undefined): void {
    const now = new Set(table == null ? [] : Object.keys(table.members).filter((peer) => peer !== this.deps.node.identity.peerId()))
    const libp2p = this.deps.node.hosts.libp2p('public')
    for (const peer of this.served) {
      if (now.has(peer) || libp2p == null) continue
      libp2p.hangUp(peerIdFromString(peer)).catch(traced(this.deps.log, 'hang up on a former VPN member'))
    }
    this.served = now
  }

  /** Listen on the leader's relay: the relay transport reserves a slot there and keeps it. */
  private async reserveOn (table: RoutingTable): Promise<void> {
    const libp2p = this.deps.node.hosts.libp2p('public')
    const direct = table.members[table.leader]?.addresses.find((address) => !address.includes('/p2p-circuit'))
    if (libp2p == null || direct == null) return
    const leader = peerIdFromString(table.leader)
    // the leader dialled us itself (its invitation came that way): we are reachable, no slot needed
    if (libp2p.getConnections(leader).some((c) => c.direction === 'inbound' && !c.remoteAddr.toString().includes('/p2p-circuit'))) return
    const through = `${direct.replace(/\/p2p\/[^/]+$/, '')}/p2p/${table.leader}/p2p-circuit`
    if (libp2p.getMultiaddrs().some((own) => own.toString().startsWith(through))) return
    if (this.asked?.address === through && Date.now() - this.asked.at < ASK_AGAIN_MS) return
    this.asked = { address: through, at: Date.now() }
    await libp2p.peerStore.merge(leader, { multiaddrs: [multiaddr(direct)] })
    await internalsOf(libp2p).transportManager.listen([multiaddr(through)])
  }

  /** Leader: after new slots, publish those members' relayed addresses (one version for a burst). */
  private refreshSoon (): void {
    if (this.refreshTimer != null) return
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = undefined
      const peers = [...this.fresh]
      this.fresh.clear()
      this.refresh(peers).catch(traced(this.deps.log, 'publish VPN members\' relayed addresses'))
    }, REFRESH_AFTER_MS)
    this.refreshTimer.unref()
  }

  private async refresh (peers: string[]): Promise<void> {
    if (!this.leading() || peers.length === 0) return
    this.deps.send({ type: 'vpn.addresses.set', addresses: await addressesOf(this.deps.node, peers) })
  }
}
