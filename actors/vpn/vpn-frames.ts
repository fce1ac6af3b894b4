import { segmentTcp } from '../tun/tun-device.js'
import { VPN_PROTOCOL_V1, VPN_PROTOCOL_V2 } from './vpn-protocols.js'

export type FrameVersion = 1 | 2

export const versionOf = (protocol: string | undefined): FrameVersion => protocol === VPN_PROTOCOL_V2 ? 2 : 1

/** The protocols a node offers, newest first: v2 only where its own device takes super-packets. */
export const protocolsFor = (offload: boolean): string[] => offload ? [VPN_PROTOCOL_V2, VPN_PROTOCOL_V1] : [VPN_PROTOCOL_V1]

/** Bytes before each packet of a frame: its length, and in version 2 its segment size. */
export const frameHeaderBytes = (version: FrameVersion): number => version === 2 ? 4 : 2

/** A packet of a TUN read: where it starts, its length, its segment size (0: a whole packet). */
export type PacketPart = [start: number, length: number, segment: number]

/** A batch of packets framed for one stream. */
export interface Frame {
  frame: Uint8Array
  version: FrameVersion
  /** Packets in it (a super-packet counts once). */
  packets: number
  /** IP bytes in it, framing left out. */
  bytes: number
  /** Super-packets left out: version 1 could not take them and they could not be cut. */
  unsent: number
}

/**
 * `parts` of `source` framed in `version`. Version 1 takes whole packets only: a super-packet
 * is cut into them (complete checksums); one that cannot be cut is left out.
 */
export function frameOf (source: Uint8Array, parts: PacketPart[], version: FrameVersion): Frame {
  const pieces: Array<[data: Uint8Array, start: number, length: number, segment: number]> = []
  let unsent = 0
  for (const [start, length, segment] of parts) {
    if (segment === 0 || version === 2) { pieces.push([source, start, length, segment]); continue }
    const cut = segmentTcp(source, start, length, segment)
    if (cut == null) { unsent++; continue }
    let at = 0
    for (const size of cut.lengths) { pieces.push([cut.packets, at, size, 0]); at += size }
  }
  const header = frameHeaderBytes(version)
  let bytes = 0
  for (const piece of pieces) bytes += piece[2]
  const frame = new Uint8Array(bytes + header * pieces.length)
  let at = 0
  for (const [data, start, length, segment] of pieces) {
    frame[at] = length >> 8
    frame[at + 1] = length & 0xff
    if (version === 2) { frame[at + 2] = segment >> 8; frame[at + 3] = segment & 0xff }
    frame.set(data.subarray(start, start + length), at + header)
    at += length + header
  }
  return { frame, version, packets: pieces.length, bytes, unsent }
}

/** `frame` for a stream of `version` (a frame queued before its stream was open, in this node's own version). */
export function reframed (frame: Frame, version: FrameVersion): Frame {
  if (frame.version === version) return frame
  const parts: PacketPart[] = []
  eachPacket(frame.frame, frame.version, (start, length, segment) => { parts.push([start, length, segment]) })
  return frameOf(frame.frame, parts, version)
}

/**
 * Calls `visit` for every whole packet framed in `data`, in order; returns where the
 * first unfinished one starts (data.byteLength when none is).
 */
export function eachPacket (data: Uint8Array, version: FrameVersion, visit: (start: number, length: number, segment: number) => void): number {
  const header = frameHeaderBytes(version)
  let at = 0
  while (at + header <= data.byteLength) {
    const length = (data[at]! << 8) | data[at + 1]!
    const segment = version === 2 ? (data[at + 2]! << 8) | data[at + 3]! : 0
    if (at + header + length > data.byteLength) break
    visit(at + header, length, segment)
    at += header + length
  }
  return at
}

/** Bytes `data` must reach before it holds its first whole packet. */
export function bytesNeeded (data: Uint8Array, version: FrameVersion): number {
  const header = frameHeaderBytes(version)
  return data.byteLength < header ? header : header + ((data[0]! << 8) | data[1]!)
}
