import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import type { NodeComponents } from '../node-components.js'
import type { NetworkKind } from '../events.js'
import type { MemberRelay } from '../../actors/libp2p-node.js'
import type { RoutingTable } from '../../machines/vpn-table.js'
import type { VpnEdit } from '../../machines/vpn.js'
import { internalsOf, setMemberRelayOpen } from '../../actors/libp2p-internals.js'
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

/** How long the leader waits after a reservation before it publishes members' new addresses (several come together). */
const REFRESH_AFTER_MS = 300

/**
 * A public VPN's own relay, as a private swarm has its owner's: the leader's public host relays
 * its members without data or time limits, and only them (a slot for a member, a circuit between
 * two members); each member holds a slot on it, so members behind NAT reach each other through the
 * leader, and go direct once a hole punch finds a path. A member takes a slot when it dialled the
 * leader (it may be behind NAT), not when the leader dialled it. After a member takes a slot, the
 * leader publishes a table version with the member's address through the relay.
 * A VPN inside a private swarm does not use it: the swarm owner relays on the private host.
 */
export class VpnMemberRelay {
  private refreshTimer?: NodeJS.Timeout
  /** The leader this member holds a slot on, per VPN: reserved once, kept by the relay transport. */
  private reservedFor?: string

  constructor (private readonly deps: MemberRelayDeps) {
    deps.node.hosts.setMemberRelay(this.policy)
    // the relay is open only while this node leads a public VPN: a new public host starts closed
    deps.node.hosts.addAttachment({
      name: 'vpn member relay',
      networks: ['public'],
      attach: async (libp2p) => { await setMemberRelayOpen(libp2p, this.leading()) },
      detach: async () => {}
    })
  }

  /** Who may use the public host's relay: asked by libp2p at each reservation and each circuit. */
  readonly policy: MemberRelay = {
    reserve: (peer) => {
      const member = this.leadsPublicVpnWith(peer)
      if (member) this.refreshSoon()
      return member
    },
    connect: (source, destination) => this.leadsPublicVpnWith(source) && this.leadsPublicVpnWith(destination)
  }

  /** Told of every state and version the VPN records: a member of a public VPN takes its slot on the leader. */
  follow (state: string, table: RoutingTable | undefined): void {
    const libp2p = this.deps.node.hosts.libp2p('public')
    if (libp2p != null) setMemberRelayOpen(libp2p, state === 'running' && this.leading()).catch(traced(this.deps.log, 'open or close the VPN member relay'))
    const self = this.deps.node.identity.peerId()
    if (state !== 'running' || table == null || table.leader === self || this.deps.current()?.network !== 'public') return
    const key = `${table.vpnId}/${table.leader}`
    if (this.reservedFor === key) return
    this.reservedFor = key
    this.reserveOn(table).catch((err: unknown) => {
      this.reservedFor = undefined // try again with the next version
      traced(this.deps.log, 'take a slot on the VPN leader\'s relay')(err)
    })
  }

  /** Forget the timer and the slot (the VPN stopped, or the node). */
  close (): void {
    clearTimeout(this.refreshTimer)
    this.refreshTimer = undefined
    this.reservedFor = undefined
  }

  /** This node leads a public VPN that is not closed. */
  private leading (): boolean {
    const current = this.deps.current()
    return current?.network === 'public' && current.table != null && !current.table.closed && current.table.leader === this.deps.node.identity.peerId()
  }

  private leadsPublicVpnWith (peer: string): boolean {
    return this.leading() && this.deps.current()?.table?.members[peer] != null
  }

  /** Listen on the leader's relay: the relay transport reserves a slot there and keeps it. */
  private async reserveOn (table: RoutingTable): Promise<void> {
    const libp2p = this.deps.node.hosts.libp2p('public')
    const leader = table.members[table.leader]
    const direct = leader?.addresses.find((address) => !address.includes('/p2p-circuit'))
    if (libp2p == null || direct == null) return
    // the leader dialled us itself (its invitation came that way): we are reachable, no slot needed
    if (libp2p.getConnections(peerIdFromString(table.leader)).some((c) => c.direction === 'inbound' && !c.remoteAddr.toString().includes('/p2p-circuit'))) return
    const through = `${direct.replace(/\/p2p\/[^/]+$/, '')}/p2p/${table.leader}/p2p-circuit`
    if (libp2p.getMultiaddrs().some((own) => own.toString().startsWith(through))) return
    // the relay transport dials the leader (connected already: it invited us) and asks for the slot
    await libp2p.peerStore.merge(peerIdFromString(table.leader), { multiaddrs: [multiaddr(direct)] })
    await internalsOf(libp2p).transportManager.listen([multiaddr(through)])
  }

  /** Leader: after reservations, publish members' addresses through the relay (one version for a burst). */
  private refreshSoon (): void {
    if (this.refreshTimer != null) return
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = undefined
      this.refresh().catch(traced(this.deps.log, 'publish VPN members\' relayed addresses'))
    }, REFRESH_AFTER_MS)
    this.refreshTimer.unref()
  }

  private async refresh (): Promise<void> {
    const table = this.deps.current()?.table
    const self = this.deps.node.identity.peerId()
    if (table == null || table.leader !== self) return
    const addresses = await addressesOf(this.deps.node, Object.keys(table.members).filter((peer) => peer !== self))
    this.deps.send({ type: 'vpn.addresses.set', addresses })
  }
}
