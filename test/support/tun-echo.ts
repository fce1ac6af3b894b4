// Runs inside a test namespace: opens a TUN device, gives it 10.99.0.1/24, and answers
// every ICMP echo request to 10.99.0.0/24 itself, through the device. Prints `ready`.
import { openTun } from '../../actors/tun/tun-device.js'
import { eachPacket } from '../../actors/vpn/vpn-frames.js'
import { run } from '../../runtime/netdev/run.js'

const device = await openTun({ name: 'dmstun0', mtu: 1400 })
await run('ip', ['addr', 'add', '10.99.0.1/24', 'dev', device.name])
await run('ip', ['link', 'set', device.name, 'mtu', '1400', 'up'])

function checksum (bytes: Uint8Array, start: number, end: number): number {
  let sum = 0
  for (let i = start; i < end; i += 2) sum += (bytes[i]! << 8) + (i + 1 < end ? bytes[i + 1]! : 0)
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16)
  return ~sum & 0xffff
}

let answered = 0
device.onPackets((batch) => {
  eachPacket(batch, 2, (start, length) => {
    const packet = new Uint8Array(batch.subarray(start, start + length))
    const headerLength = (packet[0]! & 0x0f) * 4
    if (packet[0]! >> 4 !== 4 || packet[9] !== 1 || packet[headerLength] !== 8) return // IPv4 ICMP echo request only
    const source = packet.slice(12, 16)
    packet.set(packet.slice(16, 20), 12)
    packet.set(source, 16)
    packet[headerLength] = 0 // echo reply
    packet[headerLength + 2] = 0
    packet[headerLength + 3] = 0
    const icmpSum = checksum(packet, headerLength, length)
    packet[headerLength + 2] = icmpSum >> 8
    packet[headerLength + 3] = icmpSum & 0xff
    packet[10] = 0
    packet[11] = 0
    const ipSum = checksum(packet, 0, headerLength)
    packet[10] = ipSum >> 8
    packet[11] = ipSum & 0xff
    if (device.write(packet)) answered++
  })
})
process.stdout.write('ready\n')
process.on('SIGTERM', () => { device.close(); process.stdout.write(`answered ${answered}\n`); process.exit(0) })
