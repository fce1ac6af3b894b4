import { test } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { Uint8ArrayList } from 'uint8arraylist'
import type { Stream } from '@libp2p/interface'
import { receivePackets } from '../../actors/vpn/packet-receiver.js'
import type { TunDevice } from '../../actors/tun/tun-device.js'
import type { PumpStats } from '../../actors/vpn/packet-pump.js'
import { frameOf } from '../../actors/vpn/vpn-frames.js'
import type { FrameVersion, PacketPart } from '../../actors/vpn/vpn-frames.js'

// The receiver's reassembly against every way a transport may cut and join a member's frames:
// generated packets, framed in either version, delivered in generated pieces (down to single
// bytes, and lists of pieces in one message). The device here records what it is given; the
// real device is in test/e2e (vpn, vpn-offload, tun).

const SENDER = [10, 88, 0, 2]
const LOCAL = [10, 88, 0, 1]
const ipNumber = (ip: number[]): number => ((ip[0]! << 24) | (ip[1]! << 16) | (ip[2]! << 8) | ip[3]!) >>> 0

interface Sent { packet: Uint8Array, segment: number, kept: boolean }

/** An IPv4 packet of `size` bytes; from the sender to us unless `spoofed`. */
const packets = fc.record({ size: fc.integer({ min: 20, max: 70_000 }), spoofed: fc.boolean(), segment: fc.integer({ min: 0, max: 2000 }), fill: fc.integer({ min: 0, max: 255 }) })
  .map(({ size, spoofed, segment, fill }): Sent => {
    const packet = new Uint8Array(Math.min(size, 0xffff)).fill(fill)
    packet[0] = 0x45
    packet.set(spoofed ? [10, 88, 0, 9] : SENDER, 12)
    packet.set(LOCAL, 16)
    return { packet, segment, kept: !spoofed }
  })

function harness (version: FrameVersion): { stream: Stream, written: Array<{ packet: Uint8Array, segment: number }>, stats: PumpStats } {
  const written: Array<{ packet: Uint8Array, segment: number }> = []
  const tun = {
    writeBatch: (data: Uint8Array, lengths: Uint32Array, count: number, starts?: Uint32Array, segments?: Uint16Array) => {
      for (let i = 0; i < count; i++) written.push({ packet: data.slice(starts![i]!, starts![i]! + lengths[i]!), segment: segments?.[i] ?? 0 })
      return count
    }
  } as unknown as TunDevice
  const stats: PumpStats = { packetsOut: 0, bytesOut: 0, packetsIn: 0, bytesIn: 0, drops: { noRoute: 0, spoofed: 0, overload: 0, nonMember: 0, malformed: 0, notForUs: 0, deviceClosed: 0 } }
  const stream = new EventTarget() as unknown as Stream
  receivePackets(stream, version, { tun, stats, traffic: { bytesIn: 0, bytesOut: 0 }, localIp: ipNumber(LOCAL), sourceIp: () => ipNumber(SENDER) })
  return { stream, written, stats }
}

function message (data: Uint8Array | Uint8ArrayList): Event {
  return Object.assign(new Event('message'), { data })
}

test('every packet arrives once, whole and in order, however the frames are cut and joined', () => {
  fc.assert(fc.property(
    fc.constantFrom<FrameVersion>(1, 2),
    fc.array(packets, { minLength: 1, maxLength: 6 }),
    fc.array(fc.integer({ min: 1, max: 70_000 }), { minLength: 1, maxLength: 40 }),
    fc.boolean(),
    (version, sent, cuts, lists) => {
      const source = new Uint8Array(sent.reduce((n, s) => n + s.packet.length, 0))
      const parts: PacketPart[] = []
      let at = 0
      for (const { packet, segment } of sent) { source.set(packet, at); parts.push([at, packet.length, version === 2 ? segment : 0]); at += packet.length }
      const { frame } = frameOf(source, parts, version)
      const { stream, written, stats } = harness(version)
      // the frame in pieces of the generated sizes (the last size repeats), sent alone or two to a message
      let offset = 0
      let i = 0
      const pieces: Uint8Array[] = []
      while (offset < frame.length) {
        const size = cuts[Math.min(i++, cuts.length - 1)]!
        pieces.push(frame.subarray(offset, offset + size))
        offset += size
      }
      for (let p = 0; p < pieces.length; p += lists ? 2 : 1) {
        stream.dispatchEvent(message(lists ? new Uint8ArrayList(...pieces.slice(p, p + 2)) : pieces[p]!))
      }
      const kept = sent.filter((s) => s.kept)
      assert.is(written.length, kept.length)
      for (const [k, s] of kept.entries()) {
        assert.equal(written[k]!.packet, s.packet)
        assert.is(written[k]!.segment, version === 2 ? s.segment : 0)
      }
      assert.is(stats.drops.spoofed, sent.length - kept.length)
      assert.is(stats.packetsIn, kept.length)
    }), { numRuns: 150 })
})

test('a 64 KiB packet sent a byte at a time is put together once', () => {
  const packet = new Uint8Array(0xffff).fill(7)
  packet[0] = 0x45
  packet.set(SENDER, 12)
  packet.set(LOCAL, 16)
  const { frame } = frameOf(packet, [[0, packet.length, 1400]], 2)
  const { stream, written } = harness(2)
  const started = process.hrtime.bigint()
  for (let i = 0; i < frame.length; i++) stream.dispatchEvent(message(frame.subarray(i, i + 1)))
  assert.is(written.length, 1)
  assert.equal(written[0]!.packet, packet)
  // each byte is copied once (joining the pieces again on every message copied about 2 GB for this
  // packet); the bound is loose enough for a loaded machine
  assert.ok(Number(process.hrtime.bigint() - started) / 1e6 < 5000)
})

test.run()
