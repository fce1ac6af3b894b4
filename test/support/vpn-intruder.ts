// A peer that is not a VPN member opens the VPN protocol to a member and sends a packet,
// once with each version of the protocol.
// argv: <member multiaddr with /p2p/> ; prints `<protocol> refused` when the member aborts
// the stream, `<protocol> accepted` otherwise, a line per version.
import { multiaddr } from '@multiformats/multiaddr'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { createLibp2pNode } from '../../actors/libp2p-node.js'
import { VPN_PROTOCOL_V1, VPN_PROTOCOL_V2 } from '../../actors/vpn/vpn-protocols.js'

const libp2p = await createLibp2pNode({ privateKey: await generateKeyPair('Ed25519'), listen: [] })
await libp2p.start()
for (const protocol of [VPN_PROTOCOL_V2, VPN_PROTOCOL_V1]) {
  let verdict = 'accepted'
  try {
    const stream = await libp2p.dialProtocol(multiaddr(process.argv[2]!), protocol)
    // one frame: a 20-byte packet (and in version 2, segment size 0)
    const packet = new Uint8Array(protocol === VPN_PROTOCOL_V2 ? 24 : 22)
    packet[1] = 20
    packet[protocol === VPN_PROTOCOL_V2 ? 4 : 2] = 0x45
    const closed = new Promise<void>((resolve) => { stream.addEventListener('close', () => { resolve() }) })
    stream.send(packet)
    await Promise.race([closed.then(() => { verdict = 'refused' }), new Promise((resolve) => setTimeout(resolve, 3000))])
  } catch {
    verdict = 'refused'
  }
  process.stdout.write(`${protocol} ${verdict}\n`)
}
await libp2p.stop()
process.exit(0)
