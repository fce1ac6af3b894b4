import { randomUUID } from 'node:crypto'
import { fromCallback, fromPromise, waitFor, type ActorRefFrom } from 'xstate'
import { peerIdFromString } from '@libp2p/peer-id'
import { componentsOf, type NodeComponents } from '../node-components.js'
import type { DmsNode } from '../node.js'
import type { FeatureFactory } from '../node-init.js'
import type { NetworkKind } from '../events.js'
import { DmsError } from '../errors.js'
import { MessageError } from '../../actors/messenger/messenger.js'
import { vpnMachine, type VpnDataPlaneInput, type VpnDeviceInput, type VpnEdit, type VpnTag, type VpnRecordEvent, type VpnRoutesEvent, type VpnTearDownInput } from '../../machines/vpn.js'
import { capacity, parseSubnet } from '../../machines/vpn-table.js'
import { openSignedTable, type SignedTable } from './signed-table.js'
import { TableVersions } from './table-versions.js'
import { VpnDns, checkedDomain } from './vpn-dns.js'
import { VpnPorts, type PublishInit, type PublishedPort, type UnpublishInit } from './vpn-ports.js'
import { VpnRules } from './vpn-rules.js'
import { vpnStatusOf } from './vpn-status.js'
import { VpnDataPlane, emptyStats } from './data-plane.js'
import { DEFAULT_VPN_MTU, type VpnInit, type VpnStatus } from './vpn-types.js'
import { registerVpnMetrics } from './vpn-metrics.js'
import { VpnMemberRelay } from './member-relay.js'
export { DEFAULT_VPN_MTU, type VpnInit, type VpnRoute, type VpnStatus } from './vpn-types.js'
import { addressesOf, checkPeerId, pathOf, pathProblem, relayOf, resolvePeers } from './peer-addresses.js'
import { traced } from '../../actors/log.js'

type VpnActor = ActorRefFrom<typeof vpnMachine>

/**
 * The VPN of one node. The routing machine decides and holds the table; this
 * service provides the effects it invokes: the device and packet path
 * (data-plane.ts), and the `recorder`, which the machine tells of every state
 * and table version: the leader signs and publishes each version, everyone
 * persists it, and subscribers get `vpn.changed`. Received tables are verified
 * here before the machine sees them.
 * Control messages (`vpn.table`, `vpn.sync`, `vpn.leave`): docs/protocols.md.
 */
export class Vpn {
  private vpnActor?: VpnActor
  private readonly versions: TableVersions
  private readonly device: string
  private readonly mtu: number
  private readonly acceptFrom: Set<string> | 'any'
  private readonly plane: VpnDataPlane
  private readonly relay: VpnMemberRelay
  /** The subnet's names: `dns.add(name, ip)`, `dns.remove(name)` on the leader, `dns.list()`; every member answers them on its VPN address. */
  readonly dns: VpnDns
  private readonly published: VpnPorts
  /** Leader: a port on a member's host (this one's by default) forwards into a member's service; `unpublish` withdraws it, `ports()` lists them (docs/vpn.md). */
  readonly publish = async (options: PublishInit): Promise<PublishedPort[]> => await this.published.publish(options)
  readonly unpublish = async (options: UnpublishInit): Promise<PublishedPort[]> => await this.published.unpublish(options)
  readonly ports = (): PublishedPort[] => this.published.list()
  /** Rules between members (leader): `rules.policy(true)`, `setGroups`, `add`, `remove`, `show`. */
  readonly rules: VpnRules

  constructor (private readonly node: NodeComponents, init: VpnInit = {}) {
    this.device = init.device ?? 'dmsvpn0'
    if (!/^[\w.-]{1,15}$/.test(this.device)) throw new DmsError('CONFIG_INVALID', `device must be 1-15 letters, digits, '.', '_' or '-' (got ${JSON.stringify(this.device)})`)
    this.mtu = init.mtu ?? DEFAULT_VPN_MTU
    if (!Number.isInteger(this.mtu) || this.mtu < 576 || this.mtu > 65535) throw new DmsError('CONFIG_INVALID', `mtu must be a whole number from 576 to 65535 (got ${this.mtu})`)
    this.acceptFrom = init.acceptFrom === 'any' ? 'any' : new Set(init.acceptFrom ?? [])
    this.versions = new TableVersions(node, (message) => { this.report(message) }, (peer) => pathProblem(pathOf(this.host(), peer)))
    const edits = {
      table: () => this.vpnActor?.getSnapshot().context.table, self: () => this.self, requireLeader: () => { this.requireLeader() },
      change: async (event: VpnEdit) => { this.actor.send(event); await this.versions.settled() }
    }
    this.dns = new VpnDns({ ...edits, enabled: init.dns !== false, report: (message) => { this.report(message) }, ...(init.dns !== false && init.dns?.port != null ? { port: init.dns.port } : {}) })
    this.published = new VpnPorts(edits)
    this.rules = new VpnRules(edits)
    this.plane = new VpnDataPlane({ node, device: this.device, mtu: this.mtu, offload: init.offload !== false, firewall: init.firewall ?? false, acceptPorts: (leader) => leader || init.acceptPorts === true, report: (message) => { this.report(message) } })
    // a public VPN's leader relays its members (members behind NAT reach each other through it)
    this.relay = new VpnMemberRelay({ node, log: node.logger.forComponent('dms:vpn'), current: () => this.vpnActor?.getSnapshot().context, send: (edit) => { this.vpnActor?.send(edit) } })
    node.hosts.addAttachment({
      name: 'vpn data plane',
      networks: ['public', 'private'],
      attach: async (_libp2p, network) => { if (network === this.plane.network) await this.plane.startPump() },
      detach: async (network) => { if (network === this.plane.network) await this.plane.stopPump() }
    })
    node.lifecycle.add({ name: 'vpn', stop: async () => { await this.close() } }) // the device goes with the node; membership stays on disk
    registerVpnMetrics(node.metrics, () => this.status())
    node.messages.handle('vpn.table', async (body, meta) => await this.receiveTable(body, meta.from))
    node.messages.handle('vpn.sync', async (_body, meta) => this.answerSync(meta.from))
    node.messages.handle('vpn.leave', async (_body, meta) => { this.memberLeaves(meta.from); return { ok: true } })
    // a peer revoked from the private swarm this VPN runs in leaves the VPN too: a new table version without it
    node.events.on('swarm.revoked', ({ peer }) => { // a node that runs no VPN has nothing to remove (and needs no VPN actor for it)
      const context = this.vpnActor?.getSnapshot().context
      if (context?.network !== 'private' || context.table?.leader !== this.self || context.table.members[peer] == null) return
      this.removePeer(peer).catch((err: unknown) => { this.report(`could not remove revoked peer ${peer}: ${(err as Error).message}`) })
    })
  }

  /** The routing actor (systemId `vpn`), a child of the node for one run (a later start gets a fresh one). */
  get actor (): VpnActor {
    if (this.vpnActor != null && this.vpnActor.getSnapshot().status === 'active') return this.vpnActor
    const logic = vpnMachine.provide({
      actors: {
        bringUp: fromPromise<NetworkKind, VpnDeviceInput>(async ({ input }) => await this.plane.bringUp(input)),
        tearDown: fromPromise<void, VpnTearDownInput>(async ({ input }) => { await this.tearDown(input) }),
        dataPlane: fromCallback<VpnRoutesEvent, VpnDataPlaneInput>(({ input, receive }) => this.plane.run(input, receive)),
        recorder: fromCallback<VpnRecordEvent, { self: string }>(({ receive }) => { receive((event) => { this.record(event) }) })
      }
    })
    this.vpnActor = this.node.actors.run('vpn', logic, { input: { self: this.self } })
    return this.vpnActor
  }

  // ---- the API -------------------------------------------------------------------------
  /** Lead a new VPN over `hosts` (peer ids, or multiaddrs with /p2p/ to dial first). This node is the first member. */
  async start (hosts: string[], options: { subnet: string, domain?: string }): Promise<VpnStatus> {
    const subnet = parseSubnet(options.subnet)
    const domain = options.domain == null ? undefined : checkedDomain(options.domain)
    if (!this.is('down')) throw new DmsError('VPN_BUSY', `the VPN is ${this.state()}: stop it first (dms-net vpn stop)`)
    const peers = await resolvePeers(this.node, hosts)
    if (peers.length + 1 > capacity(subnet)) throw new DmsError('VPN_FULL', `${options.subnet} holds ${capacity(subnet)} members; ${peers.length + 1} asked for`)
    this.actor.send({ type: 'vpn.start', vpnId: randomUUID(), subnet: options.subnet, hosts: peers, addresses: await addressesOf(this.node, [this.self, ...peers]), ...(domain != null ? { domain } : {}) })
    await this.settle('up', 'failed')
    await this.versions.firstOutcome(peers, this.actor.getSnapshot().context.table?.version)
    return this.status()
  }

  /** Leader: give a new peer the lowest free IP; existing members keep theirs. */
  async addPeer (peer: string, options: { name?: string } = {}): Promise<VpnStatus> {
    const [id] = await resolvePeers(this.node, [peer])
    this.requireLeader()
    if (options.name != null) this.dns.check(options.name) // a bad name is refused before the peer is added
    const table = this.actor.getSnapshot().context.table!
    if (table.members[id!] != null) throw new DmsError('VPN_BAD_MEMBER', `${id} is already in the VPN at ${table.members[id!]!.ip}`)
    const room = capacity(parseSubnet(table.subnet))
    if (Object.keys(table.members).length >= room) throw new DmsError('VPN_FULL', `the subnet ${table.subnet} is full (${room} members)`)
    this.actor.send({ type: 'vpn.addPeer', peers: [id!], addresses: await addressesOf(this.node, [id!]) })
    if (this.actor.getSnapshot().context.table?.members[id!] == null) throw new DmsError('VPN_FULL', `${id} was not added: the VPN stopped or its subnet ${table.subnet} is full`)
    await this.versions.settled()
    await this.versions.firstOutcome([id!], this.actor.getSnapshot().context.table?.version)
    if (options.name != null) await this.dns.add(options.name, this.actor.getSnapshot().context.table!.members[id!]!.ip)
    return this.status()
  }

  /** Leader: withdraw a member's IP and routes; the others are not disturbed. */
  async removePeer (peer: string): Promise<VpnStatus> {
    const id = checkPeerId(peer)
    this.requireLeader()
    if (id === this.self) throw new DmsError('VPN_BAD_MEMBER', 'the leader cannot remove itself: stop the VPN instead')
    if (this.actor.getSnapshot().context.table?.members[id] == null) throw new DmsError('VPN_BAD_MEMBER', `${id} is not in the VPN`)
    this.actor.send({ type: 'vpn.removePeer', peer: id })
    await this.versions.settled()
    return this.status()
  }

  /**
   * Leave the VPN. The leader closes it for every member (the only allocator and signer: without it
   * no table can change, so members tear down rather than run on a frozen table). A member asks the
   * leader to remove it and takes its own device down.
   */
  async stop (): Promise<VpnStatus> {
    if (this.is('down')) return this.status()
    this.actor.send({ type: 'vpn.stop' })
    await this.settle('down')
    return this.status()
  }

  /** Come back into the VPN this node was in before a restart (call after `node.start()`). */
  async restore (): Promise<VpnStatus> {
    const saved = await this.versions.load()
    if (saved == null || saved.table.closed || saved.table.members[this.self] == null) return this.status()
    this.actor.send({ type: 'vpn.restore', table: saved.table })
    await this.settle('up', 'failed')
    if (saved.table.leader !== this.self) void this.syncFromLeader(saved.table.leader)
    return this.status()
  }

  /** Take the device down, keeping membership on disk for `restore()` (a restart, not a leave: `stop()` leaves). `node.stop()` does it. */
  async close (): Promise<void> {
    if (this.vpnActor == null) return
    this.node.actors.stop('vpn')
    this.vpnActor = undefined
    this.relay.close()
    await this.plane.close()
    await this.dns.close()
  }

  status (): VpnStatus {
    if (this.vpnActor == null) return { state: 'stopped', role: 'none', device: this.device, mtu: this.mtu, routes: [], traffic: emptyStats(), members: {} }
    const { context } = this.actor.getSnapshot()
    const dns = this.dns?.status()
    return vpnStatusOf({
      state: this.state(), self: this.self, ...(context.table != null ? { table: context.table } : {}), ...(context.network != null ? { network: context.network } : {}),
      ...(context.lastError != null ? { lastError: context.lastError } : {}), device: this.device, mtu: this.mtu, ...(this.plane.offload != null ? { offload: this.plane.offload } : {}), traffic: this.plane.stats,
      peerTraffic: (peer) => this.plane.traffic(peer), protocolOf: (peer) => this.plane.protocolOf(peer), relayOf: (peer) => relayOf(this.host(), peer), pathOf: (peer) => pathOf(this.host(), peer),
      deliveries: () => this.versions.deliveries(), ...(dns != null ? { dns } : {}), ...(this.plane.portsError != null ? { portsError: this.plane.portsError } : {}), ...(this.plane.policyError != null ? { policyError: this.plane.policyError } : {})
    })
  }

  // ---- effects ---------------------------------------------------------------------------
  /** The recorder: announce each state or version, and sign, persist and publish each version in order. */
  private lastRecorded = { state: '', version: '' }
  private record ({ state, table }: VpnRecordEvent): void {
    if (this.dns.enabled) this.dns.follow(state, table)
    this.relay.follow(state, table)
    // a version is named by its VPN too: a new VPN starts again at version 1
    const version = table == null ? '' : `${table.vpnId}/${table.version}`
    const changedState = state !== this.lastRecorded.state
    const newVersion = table != null && version !== this.lastRecorded.version
    if (!changedState && !newVersion) return
    this.lastRecorded = { state, version: table == null ? this.lastRecorded.version : version }
    const self = this.self
    this.node.events.emit({ type: 'vpn.changed', state, role: table == null ? 'none' : table.leader === self ? 'leader' : 'member',
      ...(table != null ? { version: table.version } : {}), ...(table?.members[self] != null ? { ip: table.members[self]!.ip } : {}),
      members: table == null ? 0 : Object.keys(table.members).length
    })
    if (!newVersion) return
    this.versions.record(table)
  }

  private async tearDown ({ table, self, reason }: VpnTearDownInput): Promise<void> {
    await this.plane.close()
    // a member leaving asks the leader to remove it; the leader's closing version is published by adopt()
    if (table != null && reason === 'local' && table.leader !== self) {
      await this.node.messages.request(table.leader, 'vpn.leave', {}, { timeoutMs: 3000 }).catch(traced(this.node.logger.forComponent('dms:vpn'), 'tell the leader this member leaves'))
    }
    await this.versions.clear()
  }

  // ---- tables ----------------------------------------------------------------------------
  /** A `vpn.table` message: verify, then hand it to the machine. Answers with the version now in use. */
  private async receiveTable (body: unknown, from: string): Promise<{ version: number, state: string }> {
    const table = await openSignedTable(body)
    if (table.leader !== from) throw new DmsError('VPN_BAD_TABLE', `a VPN table must come from its leader (${table.leader}), not ${from}`)
    const current = this.actor.getSnapshot().context.table
    if (current == null && table.closed) return { version: table.version, state: this.state() }
    if (current == null && !this.accepts(from)) throw new DmsError('VPN_REFUSED', `this node does not accept VPN invitations from ${from} (see acceptFrom)`)
    this.versions.received({ table, signature: (body as SignedTable).signature }, current)
    this.actor.send({ type: 'vpn.table', table })
    return { version: this.actor.getSnapshot().context.table?.version ?? table.version, state: this.state() }
  }

  private answerSync (from: string): SignedTable {
    const table = this.vpnActor?.getSnapshot().context.table
    const signed = this.versions.current()
    if (table?.leader !== this.self || signed == null) throw new DmsError('VPN_NOT_LEADER', 'this node does not lead a VPN')
    if (table.members[from] == null) throw new DmsError('VPN_NOT_A_MEMBER', 'not a member of this VPN')
    return signed
  }

  private memberLeaves (from: string): void {
    if (this.vpnActor == null) return
    const { context } = this.actor.getSnapshot()
    if (context.table?.leader === this.self && context.table.members[from] != null) this.actor.send({ type: 'vpn.removePeer', peer: from })
  }

  /** After a restart: ask the leader for the versions missed while away (a few tries). */
  private async syncFromLeader (leader: string): Promise<void> {
    for (let attempt = 0; attempt < 5 && this.is('up'); attempt++) {
      try {
        const signed = await this.node.messages.request(leader, 'vpn.sync', {}, { timeoutMs: 5000 })
        await this.receiveTable(signed, leader)
        return
      } catch (err) {
        // removed while it was away: the leader's word is final
        if (err instanceof MessageError && err.remoteCode === 'VPN_NOT_A_MEMBER') { this.actor.send({ type: 'vpn.stop' }); return }
        await new Promise((resolve) => setTimeout(resolve, 1000 * 2 ** attempt))
      }
    }
  }

  // ---- helpers ---------------------------------------------------------------------------
  /** The libp2p node of the host the VPN runs on. */
  private readonly host = (): ReturnType<NodeComponents['hosts']['libp2p']> => this.node.hosts.libp2p(this.vpnActor?.getSnapshot().context.network ?? 'public')

  private get self (): string { return this.node.identity.peerId() }

  private accepts (from: string): boolean {
    if (this.acceptFrom === 'any' || this.acceptFrom.has(from)) return true
    return (this.node.hosts.libp2p('private')?.getConnections(peerIdFromString(from)).length ?? 0) > 0
  }

  private requireLeader (): void {
    const { context } = this.actor.getSnapshot()
    if (!this.is('up')) throw new DmsError('VPN_NOT_RUNNING', `the VPN is ${this.state()}${this.is('down') ? ': start one with dms-net vpn start' : ''}`)
    if (context.table?.leader !== this.self) throw new DmsError('VPN_NOT_LEADER', `only the VPN's leader (${context.table?.leader ?? '?'}) can change its members and names`)
  }

  /** The state's name, for status output and messages only: decisions ask the machine's tags (`is`). */
  private readonly state = (): string => String(this.actor.getSnapshot().value)
  private readonly is = (tag: VpnTag): boolean => this.actor.getSnapshot().hasTag(tag)

  private async settle (...tags: VpnTag[]): Promise<void> {
    await waitFor(this.actor, (s) => tags.some((tag) => s.hasTag(tag)), { timeout: 30_000 })
  }

  private report (message: string): void {
    this.node.events.emit({ type: 'vpn.error', message })
  }
}

/** The VPN as a feature created with the node: `createNode({ features: { vpn: vpn() } })`, then `node.features.vpn`. */
export const vpn = (init: VpnInit = {}): FeatureFactory<Vpn> => (components) => new Vpn(components, init)

/** Give a node created without it a VPN (the same as `vpn()` at creation), before `node.start()`; `restore()` after it. */
export const createVpn = (node: DmsNode, init: VpnInit = {}): Vpn => vpn(init)(componentsOf(node))
