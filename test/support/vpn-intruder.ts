// A peer that is not a VPN member opens the VPN protocol to a member and sends a packet.
// argv: <member multiaddr with /p2p/> ; prints `refused` when the member aborts the stream, `accepted` otherwise.
import { multiaddr } from '@multiformats/multiaddr'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { createLibp2pNode } from '../../actors/libp2p-node.js'
import { VPN_PROTOCOL } from '../../actors/vpn/packet-pump.js'

const libp2p = await createLibp2pNode({ privateKey: await generateKeyPair('Ed25519'), listen: [] })
await libp2p.start()
let verdict = 'accepted'
try {
  const stream = await libp2p.dialProtocol(multiaddr(process.argv[2]!), VPN_PROTOCOL)
  const packet = new Uint8Array(22)
  packet[0] = 0
  packet[1] = 20
  packet[2] = 0x45
  const closed = new Promise<void>((resolve) => { stream.addEventListener('close', () => { resolve() }) })
  stream.send(packet)
  await Promise.race([closed.then(() => { verdict = 'refused' }), new Promise((resolve) => setTimeout(resolve, 3000))])
} catch {
  verdict = 'refused'
}
process.stdout.write(`${verdict}\n`)
await libp2p.stop()
process.exit(0)
