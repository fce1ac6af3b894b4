import { randomUUID } from 'node:crypto'
import { writeFile } from 'node:fs/promises'
import { fromCallback, fromPromise, waitFor } from 'xstate'
import type { Actor } from 'xstate'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { componentsOf } from '../node-components.js'
import type { NodeComponents } from '../node-components.js'
import type { DmsNode } from '../node.js'
import type { NetworkKind } from '../events.js'
import { vpnMachine } from '../../machines/vpn.js'
import type { VpnDeviceInput, VpnRoutesEvent, VpnTearDownInput } from '../../machines/vpn.js'
import { capacity, parseSubnet, routesOf } from '../../machines/vpn-table.js'
import type { RoutingTable } from '../../machines/vpn-table.js'
import { openTun } from '../../actors/tun/tun-device.js'
import type { TunDevice } from '../../actors/tun/tun-device.js'
import { createPacketPump } from '../../actors/vpn/packet-pump.js'
import type { PacketPump, PumpStats } from '../../actors/vpn/packet-pump.js'
import { configureLink } from '../netdev/link.js'
import { createVpnFirewall } from '../netdev/nftables.js'
import type { VpnFirewall } from '../netdev/nftables.js'
import { openSignedTable, signTable } from './signed-table.js'
import type { SignedTable } from './signed-table.js'
import { TablePublisher } from './table-publisher.js'
import type { Delivery } from './table-publisher.js'
import { VpnStore } from './store.js'

/** The VPN device's MTU unless configured: see VpnInit.mtu. */
export const DEFAULT_VPN_MTU = 16000

export interface VpnInit {
  /** TUN device name (at most 15 characters). @default 'dmsvpn0' */
  device?: string
  /**
   * TUN MTU. The packets travel inside a TCP stream, not as datagrams, so the
   * path MTU does not bound it; larger packets mean fewer per-packet costs
   * (see docs/vpn.md for the measurements). At most 65535 (the frame's u16 length). @default 16000
   */
  mtu?: number
  /**
   * Whose invitations this node accepts when it is not in a VPN: peer ids, or
   * 'any'. Invitations over the private swarm (only authorised peers reach it)
   * are always accepted. @default []
   */
  acceptFrom?: string[] | 'any'
  /** Also drop traffic from non-member source IPs in the kernel (nftables). @default false */
  firewall?: boolean
}

export interface VpnRoute { ip: string, peer: string, self: boolean }

export interface VpnStatus {
  state: string
  role: 'leader' | 'member' | 'none'
  vpnId?: string
  leader?: string
  subnet?: string
  version?: number
  ip?: string
  device?: string
  mtu?: number
  network?: NetworkKind
  routes: VpnRoute[]
  traffic: PumpStats
  /** Leader: the table version each member confirmed, and the last delivery error. */
  members: Record<string, Delivery>
  lastError?: string
}

type VpnActor = Actor<typeof vpnMachine>

const emptyStats = (): PumpStats => ({ packetsOut: 0, bytesOut: 0, packetsIn: 0, bytesIn: 0, drops: { noRoute: 0, spoofed: 0, overload: 0, nonMember: 0, malformed: 0, notForUs: 0, deviceClosed: 0 } })

/**
 * The VPN of one node. The routing machine decides; this service provides its
 * device actors (bring up / tear down the TUN device, run the packet pump),
 * signs and publishes the leader's tables, verifies and applies received ones,
 * and persists every version it uses.
 *
 * Control messages (messenger, request/reply):
 * - `vpn.table` leader → member: a signed table (invitation, update, removal or close)
 * - `vpn.sync`  member → leader: "send me the current table" (after a restart)
 * - `vpn.leave` member → leader: "remove me" (a member's own stop)
 */
export class Vpn {
  private vpnActor?: VpnActor
  private readonly store: VpnStore
  private readonly publisher: TablePublisher
  private readonly device: string
  private readonly mtu: number
  private readonly acceptFrom: Set<string> | 'any'
  private readonly useFirewall: boolean
  private tun?: TunDevice
  private pump?: PacketPump
  private pumping?: Promise<PacketPump>
  /** The table the data plane routes by, while the machine is running. */
  private running?: VpnDeviceInput
  private firewall?: VpnFirewall
  private network?: NetworkKind
  /** The signed form of the table in the machine, as last signed or received. */
  private signed?: SignedTable
  /** Traffic of the last data plane, kept after it stops so status still shows it. */
  private lastStats = emptyStats()
  /** Sign, persist and publish one version at a time, in order. */
  private chain: Promise<void> = Promise.resolve()

  constructor (private readonly node: NodeComponents, init: VpnInit = {}) {
    this.device = init.device ?? 'dmsvpn0'
    if (!/^[\w.-]{1,15}$/.test(this.device)) throw new Error(`device must be 1-15 letters, digits, '.', '_' or '-' (got ${JSON.stringify(this.device)})`)
    this.mtu = init.mtu ?? DEFAULT_VPN_MTU
    if (!Number.isInteger(this.mtu) || this.mtu < 576 || this.mtu > 65535) throw new Error(`mtu must be a whole number from 576 to 65535 (got ${this.mtu})`)
    this.acceptFrom = init.acceptFrom === 'any' ? 'any' : new Set(init.acceptFrom ?? [])
    this.useFirewall = init.firewall ?? false
    this.store = new VpnStore(node.config.dataDir)
    this.publisher = new TablePublisher(node)
    node.hosts.addAttachment({
      name: 'vpn data plane',
      networks: ['public', 'private'],
      attach: async (_libp2p, network) => { if (network === this.network) await this.startPump() },
      detach: async (network) => { if (network === this.network) await this.stopPump() }
    })
    node.messages.handle('vpn.table', async (body, meta) => await this.receiveTable(body, meta.from))
    node.messages.handle('vpn.sync', async (_body, meta) => this.answerSync(meta.from))
    node.messages.handle('vpn.leave', async (_body, meta) => { this.memberLeaves(meta.from); return { ok: true } })
    // a peer revoked from the private swarm this VPN runs in leaves the VPN too: a new table version without it
    node.events.on('swarm.revoked', ({ peer }) => {
      const table = this.actor.getSnapshot().context.table
      if (this.network !== 'private' || table?.leader !== this.node.identity.peerId() || table.members[peer] == null) return
      this.removePeer(peer).catch((err: unknown) => { this.node.events.emit({ type: 'vpn.error', message: `could not remove revoked peer ${peer}: ${(err as Error).message}` }) })
    })
  }

  /** The routing actor (systemId `vpn`), created once the node has its identity. */
  get actor (): VpnActor {
    // node.stop() stops every feature actor: a later start gets a fresh one
    if (this.vpnActor != null && this.vpnActor.getSnapshot().status === 'active') return this.vpnActor
    const logic = vpnMachine.provide({
      actors: {
        bringUp: fromPromise<void, VpnDeviceInput>(async ({ input }) => { await this.bringUp(input) }),
        tearDown: fromPromise<void, VpnTearDownInput>(async ({ input }) => { await this.tearDown(input) }),
        dataPlane: fromCallback<VpnRoutesEvent, VpnDeviceInput>(({ input, receive }) => this.runDataPlane(input, receive))
      }
    })
    const actor = this.node.features.run('vpn', logic, { input: { self: this.node.identity.peerId() } }) as unknown as VpnActor
    // a version is named by its VPN too: a new VPN starts again at version 1
    let version = ''
    let state = ''
    actor.subscribe((snapshot) => {
      const table = snapshot.context.table
      const tableVersion = table == null ? '' : `${table.vpnId}/${table.version}`
      if (String(snapshot.value) !== state || (table != null && tableVersion !== version)) {
        state = String(snapshot.value)
        const status = this.status()
        this.node.events.emit({ type: 'vpn.changed', state, role: status.role, ...(status.version != null ? { version: status.version } : {}), ...(status.ip != null ? { ip: status.ip } : {}), members: status.routes.length })
      }
      if (table == null || tableVersion === version) return
      version = tableVersion
      this.chain = this.chain.then(async () => { await this.adopt(table) }).catch((err: unknown) => { this.report(`could not record VPN version ${table.version}: ${(err as Error).message}`) })
    })
    this.vpnActor = actor
    return actor
  }

  // ---- the API -------------------------------------------------------------------------

  /** Lead a new VPN over `hosts` (peer ids, or multiaddrs with /p2p/ to dial first). This node is the first member. */
  async start (hosts: string[], options: { subnet: string }): Promise<VpnStatus> {
    const subnet = parseSubnet(options.subnet)
    const state = this.state()
    if (state !== 'stopped') throw new Error(`the VPN is ${state}: stop it first (dms-net vpn stop)`)
    const peers = await this.resolvePeers(hosts)
    if (peers.length + 1 > capacity(subnet)) throw new Error(`${options.subnet} holds ${capacity(subnet)} members; ${peers.length + 1} asked for`)
    this.actor.send({ type: 'vpn.start', vpnId: randomUUID(), subnet: options.subnet, hosts: peers, addresses: await this.addressesOf([this.node.identity.peerId(), ...peers]) })
    await this.settle(['running', 'failed'])
    return this.status()
  }

  /** Leader: give a new peer the lowest free IP; existing members keep theirs. */
  async addPeer (peer: string): Promise<VpnStatus> {
    const [id] = await this.resolvePeers([peer])
    this.requireLeader()
    const table = this.actor.getSnapshot().context.table!
    if (table.members[id!] != null) throw new Error(`${id} is already in the VPN at ${table.members[id!]!.ip}`)
    const room = capacity(parseSubnet(table.subnet))
    if (Object.keys(table.members).length >= room) throw new Error(`the subnet ${table.subnet} is full (${room} members)`)
    this.actor.send({ type: 'vpn.addPeer', peers: [id!], addresses: await this.addressesOf([id!]) })
    if (this.actor.getSnapshot().context.table?.members[id!] == null) throw new Error(`${id} was not added: the VPN stopped or its subnet ${table.subnet} is full`)
    await this.chain
    return this.status()
  }

  /** Leader: withdraw a member's IP and routes; the others are not disturbed. */
  async removePeer (peer: string): Promise<VpnStatus> {
    const id = checkPeerId(peer)
    this.requireLeader()
    if (id === this.node.identity.peerId()) throw new Error('the leader cannot remove itself: stop the VPN instead')
    if (this.actor.getSnapshot().context.table?.members[id] == null) throw new Error(`${id} is not in the VPN`)
    this.actor.send({ type: 'vpn.removePeer', peer: id })
    await this.chain
    return this.status()
  }

  /**
   * Leave the VPN. On the leader this closes it for every member (the leader is
   * the only allocator and signer: without it no table can change, so members
   * are told to tear down rather than run on a frozen table). On a member it
   * asks the leader to remove it and takes its own device down.
   */
  async stop (): Promise<VpnStatus> {
    const state = this.state()
    if (state === 'stopped') return this.status()
    this.actor.send({ type: 'vpn.stop' })
    await this.settle(['stopped'])
    return this.status()
  }

  /** Come back into the VPN this node was in before a restart (call after `node.start()`). */
  async restore (): Promise<VpnStatus> {
    const saved = await this.store.load()
    if (saved == null || saved.table.closed || saved.table.members[this.node.identity.peerId()] == null) return this.status()
    this.signed = saved
    this.actor.send({ type: 'vpn.restore', table: saved.table })
    await this.settle(['running', 'failed'])
    if (saved.table.leader !== this.node.identity.peerId()) void this.syncFromLeader(saved.table.leader)
    return this.status()
  }

  /**
   * Take the device down when the process ends, keeping membership on disk so
   * `restore()` brings it back (a restart, not a leave: use `stop()` to leave).
   */
  async close (): Promise<void> {
    if (this.vpnActor == null) return
    this.node.features.stop('vpn')
    this.vpnActor = undefined
    this.running = undefined
    await this.stopPump()
    await this.closeDevice()
  }

  status (): VpnStatus {
    if (this.vpnActor == null) return { state: 'stopped', role: 'none', routes: [], traffic: emptyStats(), members: {} }
    const { context } = this.actor.getSnapshot()
    const table = context.table
    const self = this.node.identity.peerId()
    const traffic = this.pump?.stats ?? this.lastStats
    const base: VpnStatus = { state: this.state(), role: 'none', routes: [], members: {}, traffic: structuredClone(traffic), ...(context.lastError != null ? { lastError: context.lastError } : {}) }
    if (table == null) return base
    return {
      ...base,
      role: table.leader === self ? 'leader' : 'member',
      vpnId: table.vpnId,
      leader: table.leader,
      subnet: table.subnet,
      version: table.version,
      ...(table.members[self] != null ? { ip: table.members[self]!.ip } : {}),
      device: this.device,
      mtu: this.mtu,
      ...(this.network != null ? { network: this.network } : {}),
      routes: Object.entries(table.members).map(([peer, m]) => ({ ip: m.ip, peer, self: peer === self })).sort((a, b) => ipOrder(a.ip) - ipOrder(b.ip)),
      members: table.leader === self ? this.publisher.status() : {}
    }
  }

  // ---- device actors ---------------------------------------------------------------------

  private async bringUp ({ table, self }: VpnDeviceInput): Promise<void> {
    const { prefix } = parseSubnet(table.subnet)
    this.network = this.node.hosts.libp2p('private') != null ? 'private' : 'public'
    this.tun = await openTun({ name: this.device, mtu: this.mtu })
    try {
      // the VPN carries IPv4 only: no IPv6 chatter (router solicitations) on its device
      await writeFile(`/proc/sys/net/ipv6/conf/${this.tun.name}/disable_ipv6`, '1').catch(() => {})
      await configureLink(this.tun.name, { address: `${table.members[self]!.ip}/${prefix}`, mtu: this.mtu })
      if (this.useFirewall) this.firewall = await createVpnFirewall({ device: this.tun.name, allowed: [...routesOf(table, self).keys()] })
    } catch (err) {
      await this.closeDevice()
      throw err
    }
  }

  /** The data-plane actor: runs the packet pump while the machine is running, follows table changes. */
  private runDataPlane ({ table, self }: VpnDeviceInput, receive: (listener: (event: VpnRoutesEvent) => void) => void): () => void {
    this.running = { table, self }
    void this.startPump()
    receive((event) => {
      this.running = { table: event.table, self }
      this.learnAddresses(event.table)
      this.pump?.setRoutes(routesOf(event.table, self))
      void this.firewall?.allow([...routesOf(event.table, self).keys()]).catch((err: Error) => { this.report(err.message) })
    })
    return () => {
      this.running = undefined
      void this.stopPump()
    }
  }

  /** Start the pump on the VPN's host; again whenever that host restarts (a swarm key rotation). */
  private async startPump (): Promise<void> {
    const libp2p = this.node.hosts.libp2p(this.network ?? 'public')
    if (this.running == null || this.tun == null || libp2p == null || this.pump != null || this.pumping != null) return
    // a restarted host has an empty peer store: tell it where the members are
    this.learnAddresses(this.running.table)
    const tun = this.tun
    const pumping = this.pumping = createPacketPump({ libp2p, tun, routes: routesOf(this.running.table, this.running.self), localIp: this.running.table.members[this.running.self]?.ip ?? '0.0.0.0' })
    try {
      const pump = await pumping
      if (this.pumping !== pumping || this.running == null) { await pump.close(); return }
      this.pump = pump
      this.lastStats = pump.stats
      pump.setRoutes(routesOf(this.running.table, this.running.self))
    } catch (err) {
      this.report(`the VPN data plane did not start: ${(err as Error).message}`)
    } finally {
      if (this.pumping === pumping) this.pumping = undefined
    }
  }

  private async stopPump (): Promise<void> {
    this.pumping = undefined
    const pump = this.pump
    this.pump = undefined
    await pump?.close()
  }

  private async tearDown ({ table, self, reason }: VpnTearDownInput): Promise<void> {
    await this.stopPump()
    await this.closeDevice()
    // a member leaving asks the leader to remove it; the leader's closing version is published by adopt()
    if (table != null && reason === 'local' && table.leader !== self) {
      await this.node.messages.request(table.leader, 'vpn.leave', {}, { timeoutMs: 3000 }).catch(() => {})
    }
    await this.chain
    await this.store.clear()
    this.signed = undefined
    this.network = undefined
  }

  private async closeDevice (): Promise<void> {
    await this.firewall?.delete()
    this.firewall = undefined
    this.tun?.close()
    this.tun = undefined
  }

  // ---- tables ----------------------------------------------------------------------------

  /** A new version is in the machine: the leader signs and publishes it; everyone persists it. */
  private async adopt (table: RoutingTable): Promise<void> {
    if (table.leader === this.node.identity.peerId()) {
      const previous = this.signed?.table
      this.signed = await signTable(this.node.identity.privateKey(), table)
      if (!table.closed) await this.store.save(this.signed)
      // members, and peers this version removed: they learn from it that they are out
      const removed = previous == null ? [] : Object.keys(previous.members).filter((peer) => table.members[peer] == null)
      const recipients = [...Object.keys(table.members), ...removed].filter((peer) => peer !== this.node.identity.peerId())
      const published = this.publisher.publish(this.signed, recipients, table.closed ? { attempts: 2, timeoutMs: 3000 } : {})
      // a closing version is waited for, briefly: stop returns once reachable members were told
      if (table.closed) {
        let timer: NodeJS.Timeout | undefined
        await Promise.race([published, new Promise((resolve) => { timer = setTimeout(resolve, CLOSE_WAIT_MS) })])
        clearTimeout(timer)
      }
    } else if (this.signed?.table.version === table.version && this.signed.table.vpnId === table.vpnId && !table.closed && table.members[this.node.identity.peerId()] != null) {
      await this.store.save(this.signed)
    }
  }

  /** A `vpn.table` message: verify, then hand it to the machine. Answers with the version now in use. */
  private async receiveTable (body: unknown, from: string): Promise<{ version: number, state: string }> {
    const table = await openSignedTable(body)
    if (table.leader !== from) throw new Error(`a VPN table must come from its leader (${table.leader}), not ${from}`)
    const current = this.actor.getSnapshot().context.table
    if (current == null && table.closed) return { version: table.version, state: this.state() }
    if (current == null && !this.accepts(from)) throw new Error(`this node does not accept VPN invitations from ${from} (see acceptFrom)`)
    if (current == null || (table.vpnId === current.vpnId && table.version > current.version)) this.signed = body as SignedTable
    this.actor.send({ type: 'vpn.table', table })
    return { version: this.actor.getSnapshot().context.table?.version ?? table.version, state: this.state() }
  }

  private answerSync (from: string): SignedTable {
    const table = this.vpnActor?.getSnapshot().context.table
    if (table?.leader !== this.node.identity.peerId() || this.signed == null) throw new Error('this node does not lead a VPN')
    if (table.members[from] == null) throw new Error(NOT_A_MEMBER)
    return this.signed
  }

  private memberLeaves (from: string): void {
    if (this.vpnActor == null) return
    const { context } = this.actor.getSnapshot()
    if (context.table?.leader === this.node.identity.peerId() && context.table.members[from] != null) this.actor.send({ type: 'vpn.removePeer', peer: from })
  }

  /** After a restart: ask the leader for the versions missed while away (a few tries). */
  private async syncFromLeader (leader: string): Promise<void> {
    for (let attempt = 0; attempt < 5 && this.state() === 'running'; attempt++) {
      try {
        const signed = await this.node.messages.request(leader, 'vpn.sync', {}, { timeoutMs: 5000 })
        await this.receiveTable(signed, leader)
        return
      } catch (err) {
        // removed while it was away: the leader's word is final
        if ((err as Error).message.includes(NOT_A_MEMBER)) { this.actor.send({ type: 'vpn.stop' }); return }
        await new Promise((resolve) => setTimeout(resolve, 1000 * 2 ** attempt))
      }
    }
  }

  // ---- helpers ---------------------------------------------------------------------------

  private accepts (from: string): boolean {
    if (this.acceptFrom === 'any' || this.acceptFrom.has(from)) return true
    return (this.node.hosts.libp2p('private')?.getConnections(peerIdFromString(from)).length ?? 0) > 0
  }

  /** Peer ids from ids or multiaddrs; a multiaddr is dialled so its host is known. */
  private async resolvePeers (hosts: string[]): Promise<string[]> {
    const peers: string[] = []
    for (const host of hosts) {
      if (host.startsWith('/')) {
        const id = multiaddr(host).getComponents().findLast((c) => c.name === 'p2p')?.value
        if (id == null) throw new Error(`${host} has no /p2p/<peer id>`)
        await this.node.dial(host)
        peers.push(checkPeerId(id))
      } else {
        peers.push(checkPeerId(host))
      }
    }
    if (peers.includes(this.node.identity.peerId())) throw new Error('list the other peers: this node is always in its own VPN')
    if (new Set(peers).size !== peers.length) throw new Error('a peer is listed twice')
    return peers
  }

  /** Known listen addresses of peers (this node's own included), for members to dial each other. */
  private async addressesOf (peers: string[]): Promise<Record<string, string[]>> {
    const libp2p = this.node.hosts.libp2p(this.node.hosts.libp2p('private') != null ? 'private' : 'public')
    const strip = (address: { toString: () => string }): string => address.toString().replace(/\/p2p\/[^/]+$/, '')
    const out: Record<string, string[]> = {}
    for (const peer of peers) {
      if (peer === this.node.identity.peerId()) { out[peer] = (libp2p?.getMultiaddrs() ?? []).map(strip); continue }
      // identify's listen addresses; an inbound connection's remote address is only the dialler's ephemeral port
      const known = await libp2p?.peerStore.get(peerIdFromString(peer)).then((p) => p.addresses.map((a) => strip(a.multiaddr)), () => []) ?? []
      out[peer] = known.length > 0 ? known : (libp2p?.getConnections(peerIdFromString(peer)) ?? []).map((c) => strip(c.remoteAddr))
    }
    return out
  }

  private learnAddresses (table: RoutingTable): void {
    const libp2p = this.node.hosts.libp2p(this.network ?? 'public')
    for (const [peer, member] of Object.entries(table.members)) {
      if (peer === this.node.identity.peerId() || member.addresses.length === 0) continue
      try {
        void libp2p?.peerStore.merge(peerIdFromString(peer), { multiaddrs: member.addresses.map((a) => multiaddr(a)) }).catch(() => {})
      } catch {
        // an unparsable address is skipped; the others still help
      }
    }
  }

  private requireLeader (): void {
    const { value, context } = this.actor.getSnapshot()
    if (value !== 'running') throw new Error(`the VPN is ${String(value)}${value === 'stopped' ? ': start one with dms-net vpn start' : ''}`)
    if (context.table?.leader !== this.node.identity.peerId()) throw new Error(`only the VPN's leader (${context.table?.leader ?? '?'}) can change its members`)
  }

  private state (): string {
    return String(this.actor.getSnapshot().value)
  }

  private async settle (states: string[]): Promise<void> {
    await waitFor(this.actor, (s) => states.includes(String(s.value)), { timeout: 30_000 })
  }

  private report (message: string): void {
    this.node.events.emit({ type: 'vpn.error', message })
  }
}

const NOT_A_MEMBER = 'not a member of this VPN'
/** How long a leader's stop waits for members to confirm the closing version. */
const CLOSE_WAIT_MS = 4000

const ipOrder = (ip: string): number => ip.split('.').reduce((n, part) => n * 256 + Number(part), 0)

function checkPeerId (peer: string): string {
  try {
    return peerIdFromString(peer).toString()
  } catch {
    throw new Error(`${JSON.stringify(peer)} is not a peer id`)
  }
}

/** Create the VPN service of a node (before `node.start()`); `restore()` after it. */
export function createVpn (node: DmsNode, init: VpnInit = {}): Vpn {
  return new Vpn(componentsOf(node), init)
}
