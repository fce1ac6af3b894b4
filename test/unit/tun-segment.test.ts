import { test } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { segmentTcp } from '../../actors/tun/tun-device.js'
import { eachPacket, frameOf, reframed, versionOf } from '../../actors/vpn/vpn-frames.js'
import { VPN_PROTOCOL_V1 } from '../../actors/vpn/vpn-protocols.js'
import type { PacketPart } from '../../actors/vpn/vpn-frames.js'
import { sum16 } from '../support/inet-sum.js'

// Software segmentation of TCP super-packets (native/tun.cc): what a node with TUN offloads
// sends to a member of an older version, which takes whole packets only. Every segment must be
// a packet a kernel accepts: its own IP length, id and header checksum, its own sequence number,
// a full TCP checksum, and the flags where TCP puts them.

interface SuperPacket { packet: Uint8Array, ihl: number, thl: number, payload: Uint8Array, seq: number, id: number, flags: number }

/** An IPv4 TCP packet as the kernel hands it over with TSO: options, any flags, its TCP checksum partial. */
const superPackets = fc.record({
  ipOptions: fc.integer({ min: 0, max: 10 }),
  tcpOptions: fc.integer({ min: 0, max: 10 }),
  payload: fc.uint8Array({ minLength: 0, maxLength: 20_000 }),
  seq: fc.integer({ min: 0, max: 0xffffffff }),
  id: fc.integer({ min: 0, max: 0xffff }),
  flags: fc.integer({ min: 0, max: 0xff }),
  partial: fc.integer({ min: 0, max: 0xffff })
}).map(({ ipOptions, tcpOptions, payload, seq, id, flags, partial }): SuperPacket => {
  const ihl = 20 + 4 * ipOptions
  const thl = 20 + 4 * tcpOptions
  const packet = new Uint8Array(ihl + thl + payload.length)
  const view = new DataView(packet.buffer)
  packet[0] = 0x40 | (ihl / 4)
  view.setUint16(2, packet.length)
  view.setUint16(4, id)
  view.setUint16(6, 0x4000) // don't fragment
  packet[8] = 64
  packet[9] = 6
  packet.set([10, 88, 0, 1, 10, 88, 0, 2], 12)
  for (let i = 20; i < ihl; i++) packet[i] = 1 // IP options: no-ops
  view.setUint16(10, ~sum16(packet.subarray(0, ihl)) & 0xffff)
  view.setUint16(ihl, 40000)
  view.setUint16(ihl + 2, 5201)
  view.setUint32(ihl + 4, seq)
  packet[ihl + 12] = (thl / 4) << 4
  packet[ihl + 13] = flags
  view.setUint16(ihl + 16, partial) // partial: whatever it holds is recomputed
  for (let i = ihl + 20; i < ihl + thl; i++) packet[i] = 1 // TCP options: no-ops
  packet.set(payload, ihl + thl)
  return { packet, ihl, thl, payload, seq, id, flags }
})

test('a TCP super-packet is cut into valid packets: lengths, ids, checksums, sequence numbers, flags, the payload whole', () => {
  fc.assert(fc.property(superPackets, fc.integer({ min: 32, max: 16_000 }), fc.integer({ min: 0, max: 64 }), ({ packet, ihl, thl, payload, seq, id, flags }, segment, offset) => {
    const data = new Uint8Array(offset + packet.length)
    data.set(packet, offset)
    const cut = segmentTcp(data, offset, packet.length, segment)
    assert.ok(cut != null)
    const count = Math.max(1, Math.ceil(payload.length / segment))
    assert.is(cut.lengths.length, count)
    const joined: number[] = []
    let at = 0
    for (const [i, length] of [...cut.lengths].entries()) {
      const p = cut.packets.subarray(at, at + length)
      const view = new DataView(p.buffer, p.byteOffset, p.byteLength)
      at += length
      assert.is(view.getUint16(2), length, 'IP length')
      assert.is(view.getUint16(4), (id + i) & 0xffff, 'IP id')
      assert.is(sum16(p.subarray(0, ihl)), 0xffff, 'IP header checksum')
      assert.is(view.getUint32(ihl + 4), (seq + i * segment) >>> 0, 'sequence number')
      const last = i === count - 1
      const expected = flags & ~((last ? 0 : 0x09) | (i > 0 ? 0x80 : 0))
      assert.is(p[ihl + 13], expected, 'FIN and PSH on the last segment, CWR on the first')
      const tcpLength = length - ihl
      const pseudo = sum16(p.subarray(12, 20)) + 6 + tcpLength
      assert.is(sum16(p.subarray(ihl), pseudo), 0xffff, 'TCP checksum')
      assert.ok(length - ihl - thl <= segment)
      joined.push(...p.subarray(ihl + thl))
    }
    assert.is(at, cut.packets.length)
    assert.equal(Uint8Array.from(joined), payload)
  }), { numRuns: 200 })
})

test('hostile input: what is not an IPv4 TCP packet that can be cut gives null, never a crash or a read past it', () => {
  fc.assert(fc.property(fc.uint8Array({ minLength: 0, maxLength: 3000 }), fc.integer({ min: 0, max: 70_000 }), fc.integer({ min: 0, max: 4000 }), fc.integer({ min: 0, max: 4000 }), (bytes, segment, start, length) => {
    const cut = segmentTcp(bytes, start, length, segment)
    if (cut == null) return
    // accepted only when it is one: inside the data, IPv4, TCP, its IP length the packet's
    assert.ok(start + length <= bytes.length && segment >= 32)
    assert.is(bytes[start]! >> 4, 4)
    assert.is(bytes[start + 9], 6)
    assert.is((bytes[start + 2]! << 8) | bytes[start + 3]!, length)
  }), { numRuns: 2000 })
  // and the classic ones
  const { packet } = fc.sample(superPackets, 1)[0]!
  assert.is(segmentTcp(packet, 0, packet.length, 0), null, 'segment size 0')
  assert.is(segmentTcp(packet, 0, packet.length, 31), null, 'segments below any kernel\'s')
  assert.is(segmentTcp(packet, 1, packet.length, 1000), null, 'past the end')
  const fragment = packet.slice()
  fragment[6] = 0x20 // more fragments
  assert.is(segmentTcp(fragment, 0, fragment.length, 1000), null, 'a fragment')
})

test('frames: a frame queued in version 2 reaches a version-1 stream as whole packets, in order', () => {
  fc.assert(fc.property(fc.array(fc.tuple(superPackets, fc.boolean()), { minLength: 1, maxLength: 6 }), (packets) => {
    const source = new Uint8Array(packets.reduce((n, [p]) => n + p.packet.length, 0))
    const parts: PacketPart[] = []
    let at = 0
    for (const [{ packet }, cut] of packets) {
      source.set(packet, at)
      parts.push([at, packet.length, cut ? 536 : 0])
      at += packet.length
    }
    const v2 = frameOf(source, parts, 2)
    assert.is(v2.packets, packets.length)
    const v1 = reframed(v2, versionOf(VPN_PROTOCOL_V1))
    const seen: Array<[number, number]> = []
    const end = eachPacket(v1.frame, 1, (start, length, segment) => { assert.is(segment, 0); seen.push([start, length]) })
    assert.is(end, v1.frame.length)
    assert.is(seen.length, v1.packets)
    assert.is(seen.reduce((n, [, length]) => n + length, 0), v1.bytes)
    // whole packets pass as they are; cut ones become ceil(payload / 536) packets each
    const expected = packets.reduce((n, [p, cut]) => n + (cut ? Math.max(1, Math.ceil(p.payload.length / 536)) : 1), 0)
    assert.is(v1.packets, expected)
  }), { numRuns: 100 })
})

test.run()
