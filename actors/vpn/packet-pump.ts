import type { Stream, Connection } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import type { DmsLibp2p } from '../libp2p-node.js'
import type { TunDevice } from '../tun/tun-device.js'
import { ipToNumber } from '../../machines/vpn-table.js'
import { log, traced } from '../log.js'
import { isDirect, openMemberStream } from './member-stream.js'
import { EMPTY, concat, frameOf, grown, ipAt } from './packet-bytes.js'

/** Protocol of the VPN data plane: batches of `[u16 length][IPv4 packet]` on one long-lived stream per peer. */
export const VPN_PROTOCOL = '/dms/vpn/1.0.0'

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
  waiting: Array<{ frame: Uint8Array, packets: number }>
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
  readonly stats: PumpStats = { packetsOut: 0, bytesOut: 0, packetsIn: 0, bytesIn: 0, drops: { noRoute: 0, spoofed: 0, overload: 0, nonMember: 0, malformed: 0, notForUs: 0, deviceClosed: 0 } }

  constructor (private readonly init: PacketPumpInit) {
    this.maxQueueBytes = init.maxQueueBytes ?? 4 << 20
    this.localIp = ipToNumber(init.localIp)
    this.setRoutes(init.routes)
  }

  private started = false
  private closed = false
  private stopReading?: () => void

  async start (): Promise<void> {
    this.started = true
    await this.init.libp2p.handle(VPN_PROTOCOL, (stream, connection) => { this.accept(stream, connection) }, { maxInboundStreams: 4 })
    this.stopReading = this.init.tun.onPackets((packets, lengths) => { this.fromTun(packets, lengths) })
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
    void connection.newStream(VPN_PROTOCOL)
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
    await this.init.libp2p.unhandle(VPN_PROTOCOL).catch(traced(log.vpn, 'unhandle the VPN protocol'))
    for (const out of this.outbound.values()) out.stream?.abort(new Error('VPN stopped'))
    this.outbound.clear()
  }

  private fromTun (packets: Buffer, lengths: Uint32Array): void {
    // group this wake-up's packets per peer, then one send per peer
    const batches = new Map<string, { parts: Array<[number, number]>, bytes: number }>()
    let offset = 0
    for (const length of lengths) {
      const start = offset
      offset += length
      if (length < 20 || packets[start]! >> 4 !== 4) { this.stats.drops.malformed++; continue }
      const peer = this.peerByIp.get(ipAt(packets, start + 16))
      if (peer == null) { this.stats.drops.noRoute++; continue }
      let batch = batches.get(peer)
      if (batch == null) { batch = { parts: [], bytes: 0 }; batches.set(peer, batch) }
      batch.parts.push([start, length])
      batch.bytes += length + 2
    }
    for (const [peer, batch] of batches) this.sendBatch(peer, packets, batch.parts, batch.bytes)
  }

  private sendBatch (peer: string, packets: Buffer, parts: Array<[number, number]>, bytes: number): void {
    let out = this.outbound.get(peer)
    if (out == null) { out = this.newOutbound(peer); this.outbound.set(peer, out) }
    const stream = out.stream
    if (stream == null) {
      out.opening ??= this.open(peer, out)
      // hold a little while the stream opens (the first ping is answered); beyond that, drop
      if (out.waitingBytes + bytes > this.maxQueueBytes / 16) { this.stats.drops.overload += parts.length; return }
      out.waiting.push({ frame: frameOf(packets, parts, bytes), packets: parts.length })
      out.waitingBytes += bytes
      return
    }
    if (out.congested && stream.writeBufferLength + bytes > this.maxQueueBytes) { this.stats.drops.overload += parts.length; return }
    this.write(out, stream, frameOf(packets, parts, bytes), parts.length)
  }

  /** Traffic with one member since the pump started. */
  traffic (peer: string): PeerTraffic {
    return { ...(this.perPeer.get(peer) ?? { bytesIn: 0, bytesOut: 0 }) }
  }

  private trafficOf (peer: string): PeerTraffic {
    let traffic = this.perPeer.get(peer)
    if (traffic == null) { traffic = { bytesIn: 0, bytesOut: 0 }; this.perPeer.set(peer, traffic) }
    return traffic
  }

  private write (out: Outbound, stream: Stream, frame: Uint8Array, packets: number): void {
    this.stats.packetsOut += packets
    this.stats.bytesOut += frame.byteLength - 2 * packets
    out.traffic.bytesOut += frame.byteLength - 2 * packets
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
      const { stream, relayed } = await openMemberStream(this.init.libp2p, id, VPN_PROTOCOL, tryTable ? this.init.addressesOf?.(peer) : undefined)
      this.adopt(out, stream, relayed)
      for (const { frame, packets } of out.waiting.splice(0)) this.write(out, stream, frame, packets)
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
    const ip = this.ipByPeer.get(peer)
    if (ip == null) { this.stats.drops.nonMember++; stream.abort(new Error('not a member of this VPN')); return }
    stream.inactivityTimeout = 0
    const traffic = this.trafficOf(peer)
    let pending: Uint8Array = new Uint8Array(0)
    // where each accepted packet of a message starts and how long it is: the device writes them
    // out of the message itself (no copy into a batch buffer); grown when a message holds more
    let starts: Uint32Array = new Uint32Array(64)
    let lengths: Uint32Array = new Uint32Array(64)
    stream.addEventListener('message', (event) => {
      const chunk = event.data instanceof Uint8Array ? event.data : event.data.subarray()
      const data = pending.byteLength === 0 ? chunk : concat(pending, chunk)
      // the sender's VPN IP, once a message (undefined once it left the table: its packets are dropped)
      const source = this.ipByPeer.get(peer)
      let count = 0
      let used = 0
      let at = 0
      while (at + 2 <= data.byteLength) {
        const length = (data[at]! << 8) | data[at + 1]!
        if (at + 2 + length > data.byteLength) break
        const start = at + 2
        at = start + length
        if (length < 20 || ipAt(data, start + 12) !== source) { this.stats.drops.spoofed++; continue }
        // IPv4 to this node's VPN IP only: a member must not reach our other addresses or, through forwarding, our LAN
        if (data[start]! >> 4 !== 4 || ipAt(data, start + 16) !== this.localIp) { this.stats.drops.notForUs++; continue }
        if (count === starts.length) { starts = grown(starts); lengths = grown(lengths) }
        starts[count] = start
        lengths[count] = length
        count++
        used += length
        this.stats.packetsIn++
        this.stats.bytesIn += length
      }
      pending = at === data.byteLength ? EMPTY : data.slice(at)
      if (count === 0) return
      traffic.bytesIn += used
      try {
        this.init.tun.writeBatch(data, lengths, count, starts)
      } catch {
        // the device closed under us (the VPN is stopping) while packets were on their way: they have
        // nowhere to go. Thrown from this listener, the error would take the whole node down.
        this.stats.drops.deviceClosed += count
        stream.abort(new Error('the VPN device is closed'))
      }
    })
  }
}

export async function createPacketPump (init: PacketPumpInit): Promise<PacketPump> {
  const pump = new PacketPump(init)
  await pump.start()
  return pump
}
