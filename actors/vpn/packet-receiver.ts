import type { Stream } from '@libp2p/interface'
import type { TunDevice } from '../tun/tun-device.js'
import { grown, ipAt } from './packet-bytes.js'
import { bytesNeeded, eachPacket, frameHeaderBytes } from './vpn-frames.js'
import type { FrameVersion } from './vpn-frames.js'
import type { PeerTraffic, PumpStats } from './packet-pump.js'

export interface ReceiveInit {
  tun: TunDevice
  stats: PumpStats
  traffic: PeerTraffic
  /** This node's VPN IP: the only destination a member may send to. */
  localIp: number
  /** The sender's VPN IP now; undefined once it left the table (its packets are dropped). */
  sourceIp: () => number | undefined
}

/**
 * A member's packets off its stream into the TUN device: only IPv4 from the sender's
 * own VPN IP to this node's. Packets are written straight out of the message they came
 * in (no copy into a batch buffer); only a packet split across messages is copied, once,
 * into a buffer of its own size, and written when it is whole.
 */
export function receivePackets (stream: Stream, version: FrameVersion, init: ReceiveInit): void {
  const { tun, stats, traffic, localIp } = init
  const header = frameHeaderBytes(version)
  stream.inactivityTimeout = 0
  // the packet split across messages: its frame bytes so far, and how many it has in all once its header is in
  let partial: Uint8Array | undefined
  let filled = 0
  let needed = 0
  // where each accepted packet of a message starts, how long it is, its segment size: grown when a message holds more
  let starts = new Uint32Array(64)
  let lengths = new Uint32Array(64)
  let segments = new Uint16Array(64)

  /** Write the whole packets framed in `data`; returns where the first unfinished one starts. */
  const deliver = (data: Uint8Array): number => {
    const source = init.sourceIp()
    let count = 0
    let used = 0
    const end = eachPacket(data, version, (start, length, segment) => {
      if (length < 20 || ipAt(data, start + 12) !== source) { stats.drops.spoofed++; return }
      // IPv4 to this node's VPN IP only: a member must not reach our other addresses or, through forwarding, our LAN
      if (data[start]! >> 4 !== 4 || ipAt(data, start + 16) !== localIp) { stats.drops.notForUs++; return }
      if (count === starts.length) { starts = grown(starts); lengths = grown(lengths); segments = grown(segments) }
      starts[count] = start
      lengths[count] = length
      segments[count] = segment
      count++
      used += length
    })
    if (count === 0) return end
    let written = 0
    try {
      written = version === 2 ? tun.writeBatch(data, lengths, count, starts, segments) : tun.writeBatch(data, lengths, count, starts)
    } catch {
      // the device closed under us (the VPN is stopping) while packets were on their way: they have
      // nowhere to go. Thrown from this listener, the error would take the whole node down.
      stats.drops.deviceClosed += count
      stream.abort(new Error('the VPN device is closed'))
      return data.byteLength
    }
    // a packet the device refused (a super-packet that is not TCP over IPv4, a bad header) is dropped
    stats.drops.malformed += count - written
    stats.packetsIn += written
    stats.bytesIn += used
    traffic.bytesIn += used
    return end
  }

  const take = (chunk: Uint8Array): void => {
    let at = 0
    if (filled > 0) {
      // the header first, then as much of the packet as this message has
      if (filled < header) {
        const n = Math.min(header - filled, chunk.byteLength)
        partial!.set(chunk.subarray(0, n), filled)
        filled += n
        at = n
        if (filled < header) return
        needed = bytesNeeded(partial!.subarray(0, header), version)
      }
      const n = Math.min(needed - filled, chunk.byteLength - at)
      partial!.set(chunk.subarray(at, at + n), filled)
      filled += n
      at += n
      if (filled < needed) return
      deliver(partial!.subarray(0, needed))
      filled = 0
    }
    const end = at + deliver(chunk.subarray(at))
    if (end === chunk.byteLength) return
    // less than one packet is left: it waits for the next message (a frame is at most header + 65535 bytes)
    partial ??= new Uint8Array(header + 0xffff)
    partial.set(chunk.subarray(end), 0)
    filled = chunk.byteLength - end
    needed = filled >= header ? bytesNeeded(partial.subarray(0, filled), version) : header
    if (filled >= needed) { deliver(partial.subarray(0, needed)); filled = 0 }
  }

  stream.addEventListener('message', (event) => {
    if (event.data instanceof Uint8Array) take(event.data)
    else for (const chunk of event.data) take(chunk)
  })
}
