// The dial-by-id benchmark's baseline: a bare js-libp2p node (TCP, Noise, Yamux, identify) with
// kad-dht at its defaults, speaking the same DHT protocol as the dms-network nodes it joins.
import '../../actors/polyfill.js'
import { createLibp2p } from 'libp2p'
import type { Libp2p } from '@libp2p/interface'
import { tcp } from '@libp2p/tcp'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import { ping } from '@libp2p/ping'
import { kadDHT, passthroughMapper } from '@libp2p/kad-dht'
import { multiaddr } from '@multiformats/multiaddr'
import { peerIdFromString } from '@libp2p/peer-id'

export async function bareDhtNode (bootstrap: string, protocol = '/dms/kad/1.0.0'): Promise<Libp2p> {
  const node = await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: { identify: identify(), ping: ping(), dht: kadDHT({ protocol, peerInfoMapper: passthroughMapper, clientMode: false }) }
  })
  await node.dial(multiaddr(bootstrap))
  return node
}

/** `findPeer` and a dial of what it found: the bare equivalent of `node.dial(peerId)`. */
export async function bareDialById (node: Libp2p, target: string): Promise<void> {
  const found = await node.peerRouting.findPeer(peerIdFromString(target), { signal: AbortSignal.timeout(15_000) })
  await node.dial(found.multiaddrs.map((address) => address.encapsulate(`/p2p/${target}`)))
}
