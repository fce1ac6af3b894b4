import type { Stream, Connection } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import type { DmsLibp2p } from '../libp2p-node.js'
import type { TunDevice } from '../tun/tun-device.js'
import { ipToNumber } from '../../machines/vpn-table.js'
import { log, traced } from '../log.js'
import { isDirect } from '../direct-connection.js'
import { openMemberStream } from './member-stream.js'
import { ipAt } from './packet-bytes.js'
import { receivePackets } from './packet-receiver.js'
import { eachPacket, frameOf, protocolsFor, reframed, versionOf } from './vpn-frames.js'
import type { Frame, FrameVersion, PacketPart } from './vpn-frames.js'

export interface PacketPumpInit {
  libp2p: DmsLibp2p
  tun: TunDevice
  /** VPN IP → peer id of every member but this node. */
  routes: Map<string, string>
  /** This node's own VPN IP: the only destination a member may send to. */
  localIp: string
  /** Bytes queued for one peer before packets to it are dropped. @default 4 MiB */
  maxQueueBytes?: number
  /** Where the table says a member is (an address through a relay without limits first). */
  addressesOf?: (peer: string) => string[]
}

export interface PumpStats {
  packetsOut: number
  bytesOut: number
  packetsIn: number
  bytesIn: number
  drops: { noRoute: number, spoofed: number, overload: number, nonMember: number, malformed: number, notForUs: number, deviceClosed: number }
}

export interface PeerTraffic { bytesIn: number, bytesOut: number }



interface Outbound {
  stream?: Stream
  opening?: Promise<void>
  congested: boolean
  /** Frames that arrived while the stream was opening, sent once it is open (bounded by `maxQueueBytes / 16`). */
  waiting: Frame[]
  waitingBytes: number
  traffic: PeerTraffic
  /** When the table's relayed addresses were last dialled: a member that cannot be reached is not dialled per packet. */
  unlimitedTriedAt?: number
  /** The stream runs through a relay: a direct connection, when one opens, takes over. */
  relayed?: boolean
  moving?: boolean
}

/** Bytes a relayed stream may still hold when its member moves to a direct path; more is dropped, not delivered late. */
const MOVE_BACKLOG_BYTES = 256 << 10

/** How long a failed try for a path without limits waits before the next. */
const UNLIMITED_RETRY_MS = 5000

/**
 * The packet path: TUN read → destination lookup → batched frames on the
 * member's stream → remote TUN write. No actor events or per-packet objects on
 * the way; the receiver drops packets whose source is not the sender's VPN IP
 * and streams from peers that are not members.
 */
export class PacketPump {
  private peerByIp = new Map<number, string>()
  private ipByPeer = new Map<string, number>()
  private readonly outbound = new Map<string, Outbound>()
  /** Bytes of IP packets to and from each member (for status; a few adds per batch, not per packet). */
  private readonly perPeer = new Map<string, PeerTraffic>()
  private readonly maxQueueBytes: number
  private readonly localIp: number
  /** The data plane's protocols this node speaks, newest first (version 2 only with TUN offloads). */
  private readonly protocols: string[]
  /** How frames are built before a stream says which version the member speaks. */
  private readonly ownVersion: FrameVersion
  readonly stats: PumpStats = { packetsOut: 0, bytesOut: 0, packetsIn: 0, bytesIn: 0, drops: { noRoute: 0, spoofed: 0, overload: 0, nonMember: 0, malformed: 0, notForUs: 0, deviceClosed: 0 } }

  constructor (private readonly init: PacketPumpInit) {
    this.maxQueueBytes = init.maxQueueBytes ?? 4 << 20
    this.localIp = ipToNumber(init.localIp)
    this.protocols = protocolsFor(init.tun.offload)
    this.ownVersion = versionOf(this.protocols[0])
    this.setRoutes(init.routes)
  }

  private started = false
  private closed = false
  private stopReading?: () => void

  async start (): Promise<void> {
    this.started = true
    await this.init.libp2p.handle(this.protocols, (stream, connection) => { this.accept(stream, connection) }, { maxInboundStreams: 4 })
    this.stopReading = this.init.tun.onPackets((batch) => { this.fromTun(batch) })
    this.init.libp2p.addEventListener('connection:open', this.onConnection)
    this.connectAll()
  }

  /**
   * A direct connection to a member whose stream runs through a relay (a hole punch just
   * succeeded): the stream moves over, so the VPN's own TCP sessions go on at the direct
   * path's speed. The new stream carries what follows; up to MOVE_BACKLOG_BYTES already
   * queued on the relayed stream still arrive behind it.
   */
  private readonly onConnection = (event: CustomEvent<Connection>): void => {
    const connection = event.detail
    const peer = connection.remotePeer.toString()
    const out = this.outbound.get(peer)
    if (out != null && isDirect(connection)) this.moveTo(peer, out, connection)
  }

  private moveTo (peer: string, out: Outbound, connection: Connection): void {
    if (out.stream == null || out.relayed !== true || out.moving === true) return
    out.moving = true
    const relayedStream = out.stream
    void connection.newStream(this.protocols)
      .then((stream) => {
        // the member left, the VPN stopped, or the stream was replaced meanwhile: this one is not needed
        if (this.closed || this.outbound.get(peer) !== out || out.stream !== relayedStream) { stream.abort(new Error('not needed')); return }
        this.adopt(out, stream, false)
        // what the relayed stream still holds arrives behind newer packets: a little reordering TCP
        // absorbs; a large backlog is dropped instead (TCP resends it), and a half-closed stream is
        // not left behind either way
        if (relayedStream.writeBufferLength > MOVE_BACKLOG_BYTES) relayedStream.abort(new Error('moved to a direct connection'))
        else relayedStream.close({ signal: AbortSignal.timeout(2000) }).catch(() => { relayedStream.abort(new Error('moved to a direct connection')) })
      }, traced(log.vpn, 'move the VPN stream to a direct connection'))
      .finally(() => { out.moving = false })
  }

  /** Open every member's stream ahead of traffic, so the first packets are not lost. */
  private connectAll (): void {
    for (const peer of this.ipByPeer.keys()) {
      let out = this.outbound.get(peer)
      if (out == null) { out = this.newOutbound(peer); this.outbound.set(peer, out) }
      if (out.stream == null) out.opening ??= this.open(peer, out)
    }
  }

  private newOutbound (peer: string): Outbound {
    return { congested: false, waiting: [], waitingBytes: 0, traffic: this.trafficOf(peer) }
  }

  /** Replace the routing table; streams of peers no longer in it are closed. */
  setRoutes (routes: Map<string, string>): void {
    this.peerByIp = new Map([...routes].map(([ip, peer]) => [ipToNumber(ip), peer]))
    this.ipByPeer = new Map([...routes].map(([ip, peer]) => [peer, ipToNumber(ip)]))
    for (const [peer, out] of this.outbound) {
      if (!this.ipByPeer.has(peer)) { out.stream?.abort(new Error('removed from the VPN')); this.outbound.delete(peer); this.perPeer.delete(peer) }
    }
    if (this.started) this.connectAll()
  }

  async close (): Promise<void> {
    this.closed = true
    this.stopReading?.()
    this.init.libp2p.removeEventListener('connection:open', this.onConnection)
    await this.init.libp2p.unhandle(this.protocols).catch(traced(log.vpn, 'unhandle the VPN protocol'))
    for (const out of this.outbound.values()) out.stream?.abort(new Error('VPN stopped'))
    this.outbound.clear()
  }

  private fromTun (packets: Buffer): void {
    // group this wake-up's packets per peer, then one send per peer
    const batches = new Map<string, { parts: PacketPart[], bytes: number }>()
    let dropped = false
    eachPacket(packets, 2, (start, length, segment) => {
      if (length < 20 || packets[start]! >> 4 !== 4) { this.stats.drops.malformed++; dropped = true; return }
      const peer = this.peerByIp.get(ipAt(packets, start + 16))
      if (peer == null) { this.stats.drops.noRoute++; dropped = true; return }
      let batch = batches.get(peer)
      if (batch == null) { batch = { parts: [], bytes: 0 }; batches.set(peer, batch) }
      batch.parts.push([start, length, segment])
      batch.bytes += length
    })
    // all of it for one member: the device's batch is already its frame
    const whole = !dropped && batches.size === 1 ? packets : undefined
    for (const [peer, batch] of batches) this.sendBatch(peer, packets, batch.parts, batch.bytes, whole)
  }

  /** `whole`: the device's batch, every packet in it for this peer, framed as version 2. */
  private sendBatch (peer: string, packets: Buffer, parts: PacketPart[], bytes: number, whole?: Uint8Array): void {
    let out = this.outbound.get(peer)
    if (out == null) { out = this.newOutbound(peer); this.outbound.set(peer, out) }
    const stream = out.stream
    if (stream == null) {
      out.opening ??= this.open(peer, out)
      // hold a little while the stream opens (the first ping is answered); beyond that, drop
      if (out.waitingBytes + bytes > this.maxQueueBytes / 16) { this.stats.drops.overload += parts.length; return }
      out.waiting.push(frameOf(packets, parts, this.ownVersion))
      out.waitingBytes += bytes
      return
    }
    if (out.congested && stream.writeBufferLength + bytes > this.maxQueueBytes) { this.stats.drops.overload += parts.length; return }
    const version = versionOf(stream.protocol)
    this.write(out, stream, whole != null && version === 2 ? { frame: whole, version, packets: parts.length, bytes, unsent: 0 } : frameOf(packets, parts, version))
  }

  /** Traffic with one member since the pump started. */
  traffic (peer: string): PeerTraffic {
    return { ...(this.perPeer.get(peer) ?? { bytesIn: 0, bytesOut: 0 }) }
  }

  /** The data-plane protocol of the stream this node sends a member's packets on, while one is open. */
  protocolOf (peer: string): string | undefined {
    return this.outbound.get(peer)?.stream?.protocol
  }

  private trafficOf (peer: string): PeerTraffic {
    let traffic = this.perPeer.get(peer)
    if (traffic == null) { traffic = { bytesIn: 0, bytesOut: 0 }; this.perPeer.set(peer, traffic) }
    return traffic
  }

  private write (out: Outbound, stream: Stream, { frame, packets, bytes, unsent }: Frame): void {
    this.stats.drops.malformed += unsent
    this.stats.packetsOut += packets
    this.stats.bytesOut += bytes
    out.traffic.bytesOut += bytes
    try {
      if (!stream.send(frame)) out.congested = true
    } catch {
      if (out.stream === stream) out.stream = undefined
    }
  }

  private async open (peer: string, out: Outbound): Promise<void> {
    try {
      const id = peerIdFromString(peer)
      // a limited connection (a public relay's) carries no VPN traffic: go the table's way, through a relay without limits
      const onlyLimited = !this.init.libp2p.getConnections(id).some((c) => c.limits == null)
      const tryTable = onlyLimited && Date.now() - (out.unlimitedTriedAt ?? 0) >= UNLIMITED_RETRY_MS
      if (tryTable) out.unlimitedTriedAt = Date.now()
      const { stream, relayed } = await openMemberStream(this.init.libp2p, id, this.protocols, tryTable ? this.init.addressesOf?.(peer) : undefined)
      this.adopt(out, stream, relayed)
      // an older member takes whole packets only
      for (const frame of out.waiting.splice(0)) this.write(out, stream, reframed(frame, versionOf(stream.protocol)))
      // a direct connection that opened while this stream was being opened through a relay
      const direct = relayed ? this.init.libp2p.getConnections(id).find(isDirect) : undefined
      if (direct != null) this.moveTo(peer, out, direct)
    } catch {
      // the next packet tries again; what waited is lost, as on a full queue
      for (const { packets } of out.waiting.splice(0)) this.stats.drops.overload += packets
    } finally {
      out.waitingBytes = 0
      out.opening = undefined
    }
  }

  /** `stream` carries the member's packets from now on. */
  private adopt (out: Outbound, stream: Stream, relayed: boolean): void {
    stream.inactivityTimeout = 0
    stream.addEventListener('drain', () => { if (out.stream === stream) out.congested = false })
    stream.addEventListener('close', () => { if (out.stream === stream) out.stream = undefined })
    out.stream = stream
    out.congested = false
    out.relayed = relayed
  }

  private accept (stream: Stream, connection: Connection): void {
    const peer = connection.remotePeer.toString()
    if (!this.ipByPeer.has(peer)) { this.stats.drops.nonMember++; stream.abort(new Error('not a member of this VPN')); return }
    receivePackets(stream, versionOf(stream.protocol), {
      tun: this.init.tun, stats: this.stats, traffic: this.trafficOf(peer), localIp: this.localIp, sourceIp: () => this.ipByPeer.get(peer)
    })
  }
}

export async function createPacketPump (init: PacketPumpInit): Promise<PacketPump> {
  const pump = new PacketPump(init)
  await pump.start()
  return pump
}
