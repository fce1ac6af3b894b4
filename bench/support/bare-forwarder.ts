// The baseline for the VPN benchmark: the simplest TUN-over-libp2p forwarder, with the same
// transport as the VPN (TCP + Noise + Yamux + the private-network protector) and MTU 1400,
// but no actors, no routing table, no checks, no offloads: each TUN wake-up's batch, as the addon frames
// it ([u16 length][u16 segment size][packet]…), goes out as one write.
// argv: <private key hex> <listen multiaddr> <tun ip/prefix> <peer multiaddr with /p2p/> <swarm key hex> <dial: yes|no>
import { privateKeyFromProtobuf } from '@libp2p/crypto/keys'
import { multiaddr } from '@multiformats/multiaddr'
import type { Stream } from '@libp2p/interface'
import { createLibp2pNode } from '../../actors/libp2p-node.js'
import { privateNetwork } from '../../actors/private-network/protector.js'
import { openTun } from '../../actors/tun/tun-device.js'
import { configureLink } from '../../runtime/netdev/link.js'

const [keyHex, listen, cidr, peer, swarmKeyHex, dial] = process.argv.slice(2) as [string, string, string, string, string, string]
const libp2p = await createLibp2pNode({
  privateKey: privateKeyFromProtobuf(Buffer.from(keyHex, 'hex')),
  listen: [listen],
  connectionProtector: privateNetwork({ key: Buffer.from(swarmKeyHex, 'hex') })
})
await libp2p.start()
const tun = await openTun({ name: 'bare0', mtu: 1400 })
await configureLink(tun.name, { address: cidr, mtu: 1400 })
let out: Stream | undefined

function receive (stream: Stream): void {
  let pending = new Uint8Array(0)
  stream.addEventListener('message', (event) => {
    const chunk = event.data instanceof Uint8Array ? event.data : event.data.subarray()
    const data = new Uint8Array(pending.byteLength + chunk.byteLength)
    data.set(pending)
    data.set(chunk, pending.byteLength)
    let at = 0
    while (at + 4 <= data.byteLength && at + 4 + ((data[at]! << 8) | data[at + 1]!) <= data.byteLength) {
      const length = (data[at]! << 8) | data[at + 1]!
      tun.write(data.subarray(at + 4, at + 4 + length))
      at += 4 + length
    }
    pending = data.slice(at)
  })
}

await libp2p.handle('/bare/1.0.0', (stream) => { stream.inactivityTimeout = 0; out ??= stream; receive(stream) })
if (dial === 'yes') {
  out = await libp2p.dialProtocol(multiaddr(peer), '/bare/1.0.0')
  out.inactivityTimeout = 0
  receive(out)
}
// one frame per TUN wake-up, as the addon hands packets over in batches
tun.onPackets((batch) => {
  if (out == null || out.writeBufferLength > 4 << 20) return
  out.send(batch)
})
process.stdout.write('ready\n')
process.on('SIGTERM', () => { tun.close(); void Promise.resolve(libp2p.stop()).then(() => process.exit(0)) })
