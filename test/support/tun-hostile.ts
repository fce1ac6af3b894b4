// Runs inside a test namespace: a TUN device with offloads (10.99.1.1/24) is written what a
// hostile VPN member could send: generated super-packets with bad headers, and random bytes with
// random segment sizes. Then the device must still work: a valid TCP super-packet to a closed port
// is answered with a reset, and a ping request with a reply. Prints one JSON line.
import fc from 'fast-check'
import { openTun } from '../../actors/tun/tun-device.js'
import { eachPacket } from '../../actors/vpn/vpn-frames.js'
import { run } from '../../runtime/netdev/run.js'
import { sum16 } from './inet-sum.js'

const device = await openTun({ name: 'dmstun1', mtu: 16000, offload: true })
await run('ip', ['addr', 'add', '10.99.1.1/24', 'dev', device.name])
await run('ip', ['link', 'set', device.name, 'mtu', '16000', 'up'])

/** An IPv4 packet from 10.99.1.2 to 10.99.1.1: `protocol`, `body` after a 20-byte IP header. */
function ipPacket (protocol: number, body: Uint8Array): Uint8Array {
  const packet = new Uint8Array(20 + body.length)
  const view = new DataView(packet.buffer)
  packet[0] = 0x45
  view.setUint16(2, packet.length)
  packet[8] = 64
  packet[9] = protocol
  packet.set([10, 99, 1, 2, 10, 99, 1, 1], 12)
  view.setUint16(10, ~sum16(packet.subarray(0, 20)) & 0xffff)
  packet.set(body, 20)
  return packet
}

/** A TCP ACK with `payload` bytes to port 9 (nothing listens), its checksum partial as a TSO sender leaves it. */
function tcpSuperPacket (payload: number): Uint8Array {
  const tcp = new Uint8Array(20 + payload)
  const view = new DataView(tcp.buffer)
  view.setUint16(0, 40000)
  view.setUint16(2, 9)
  view.setUint32(4, 1000)
  view.setUint32(8, 1)
  tcp[12] = 5 << 4
  tcp[13] = 0x10 // ACK
  view.setUint16(14, 65535)
  const packet = ipPacket(6, tcp)
  // the pseudo-header's sum, not complemented: what CHECKSUM_PARTIAL expects
  new DataView(packet.buffer).setUint16(36, sum16(packet.subarray(12, 20), 6 + tcp.length))
  return packet
}

function echoRequest (): Uint8Array {
  const icmp = new Uint8Array(16)
  icmp[0] = 8
  icmp[5] = 1
  new DataView(icmp.buffer).setUint16(2, ~sum16(icmp) & 0xffff)
  return ipPacket(1, icmp)
}

/** Write `packets` in one batch with their segment sizes; how many the device took. */
function writeAll (packets: Array<[Uint8Array, number]>): number {
  const data = new Uint8Array(packets.reduce((n, [p]) => n + p.length, 0))
  const lengths = new Uint32Array(packets.length)
  const segments = new Uint16Array(packets.length)
  let at = 0
  for (const [i, [packet, segment]] of packets.entries()) { data.set(packet, at); lengths[i] = packet.length; segments[i] = segment; at += packet.length }
  return device.writeBatch(data, lengths, packets.length, undefined, segments)
}

const seen: Array<{ protocol: number, flags: number }> = []
device.onPackets((batch) => {
  eachPacket(batch, 2, (start, length) => {
    const ihl = (batch[start]! & 0x0f) * 4
    if (length > ihl + 13) seen.push({ protocol: batch[start + 9]!, flags: batch[start + ihl + 13]! })
  })
})

// super-packets that are not TCP over IPv4 with sound headers: every one refused before the kernel sees it
const bad = fc.sample(fc.oneof(
  fc.integer({ min: 1, max: 31 }).map((segment): [Uint8Array, number] => [tcpSuperPacket(4000), segment]),
  // one segment or less is not a super-packet; 0xffff would be the kernel's GSO_BY_FRAGS
  fc.integer({ min: 4000, max: 65535 }).map((segment): [Uint8Array, number] => [tcpSuperPacket(4000), segment]),
  fc.integer({ min: 32, max: 3999 }).map((segment): [Uint8Array, number] => [ipPacket(17, new Uint8Array(3000)), segment]),
  fc.tuple(fc.integer({ min: 32, max: 3999 }), fc.integer({ min: 0, max: 39 })).map(([segment, cut]): [Uint8Array, number] => [tcpSuperPacket(4000).subarray(0, cut), segment]),
  fc.tuple(fc.integer({ min: 32, max: 3999 }), fc.integer({ min: 0, max: 15 })).map(([segment, doff]): [Uint8Array, number] => { const p = tcpSuperPacket(4000); p[32] = doff << 4; return [p, doff >= 5 ? 0 : segment] }),
  fc.tuple(fc.integer({ min: 32, max: 3999 }), fc.integer({ min: 1, max: 0x3fff })).map(([segment, fragment]): [Uint8Array, number] => { const p = tcpSuperPacket(4000); new DataView(p.buffer).setUint16(6, fragment); return [p, segment] })
), { numRuns: 300, seed: 26 })
// a TCP header length that is still sound is a valid packet after all: only the broken ones count
const refusals = bad.filter(([, segment]) => segment !== 0)
const refusedWritten = writeAll(refusals)
// random bytes with random segment sizes: whatever the kernel makes of them, the process goes on
const noise = fc.sample(fc.tuple(fc.uint8Array({ minLength: 1, maxLength: 2000 }), fc.integer({ min: 0, max: 65535 })), { numRuns: 300, seed: 27 })
writeAll(noise.map(([bytes, segment]): [Uint8Array, number] => [bytes, segment]))

// the device still works: a super-packet of 4 segments to a closed port gets a reset, a ping a reply
const taken = writeAll([[tcpSuperPacket(4 * 1400), 1400], [echoRequest(), 0]])
const deadline = Date.now() + 3000
while (Date.now() < deadline && !(seen.some((p) => p.protocol === 6 && (p.flags & 0x04) !== 0) && seen.some((p) => p.protocol === 1))) {
  await new Promise((resolve) => setTimeout(resolve, 50))
}
process.stdout.write(`${JSON.stringify({
  offload: device.offload,
  refusals: refusals.length,
  refusedWritten,
  taken,
  reset: seen.some((p) => p.protocol === 6 && (p.flags & 0x04) !== 0),
  echoReply: seen.some((p) => p.protocol === 1)
})}\n`)
device.close()
process.exit(0)
