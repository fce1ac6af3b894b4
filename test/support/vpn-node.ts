// One VPN member in its own process (run inside a test namespace).
// argv: <private key hex (libp2p protobuf)> <listen multiaddr> <vpn ip> <routes json: [[ip, peerId, multiaddr], ...]>
// Prints `ready`; on SIGUSR2 closes only its TUN device (as a stopping VPN does, while packets
// may still arrive) and prints `device closed`; on SIGTERM prints `stats <json>` and exits.
import { privateKeyFromProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2pNode } from '../../actors/libp2p-node.js'
import { openTun } from '../../actors/tun/tun-device.js'
import { createPacketPump } from '../../actors/vpn/packet-pump.js'
import { run } from '../../runtime/netdev/run.js'

const [keyHex, listen, vpnIp, routesJson] = process.argv.slice(2) as [string, string, string, string]
const routes = JSON.parse(routesJson) as Array<[string, string, string]>
const libp2p = await createLibp2pNode({ privateKey: privateKeyFromProtobuf(Buffer.from(keyHex, 'hex')), listen: [listen] })
await libp2p.start()
for (const [, peer, address] of routes) await libp2p.peerStore.merge(peerIdFromString(peer), { multiaddrs: [multiaddr(address)] })
const tun = await openTun({ name: 'dmsvpn0', mtu: 1400 })
await run('ip', ['addr', 'add', `${vpnIp}/24`, 'dev', tun.name])
await run('ip', ['link', 'set', tun.name, 'mtu', '1400', 'up'])
const pump = await createPacketPump({ libp2p, tun, routes: new Map(routes.map(([ip, peer]) => [ip, peer])), localIp: vpnIp })
process.stdout.write('ready\n')
process.on('SIGUSR2', () => { tun.close(); process.stdout.write('device closed\n') })
process.on('SIGTERM', () => {
  process.stdout.write(`stats ${JSON.stringify(pump.stats)}\n`)
  void pump.close().then(async () => { try { tun.close() } catch {} await libp2p.stop(); process.exit(0) })
})
