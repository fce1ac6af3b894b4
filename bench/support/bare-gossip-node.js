// The scale benchmark's baseline: a bare js-libp2p node (TCP, Noise, Yamux,
// identify, ping, gossipsub with the same options as dms-network) and nothing
// else. argv: bootstrap multiaddrs. Prints {"type":"ready","address"} once
// listening, then {"type":"recv","jobId","time"} per message; reads
// `publish <json>` lines on stdin.
import '../../dist/actors/polyfill.js'
import { createInterface } from 'node:readline'
import { createLibp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import { ping } from '@libp2p/ping'
import { gossipsub } from '@libp2p/gossipsub'
import { multiaddr } from '@multiformats/multiaddr'
import { defaultGossipConfig, gossipsubOptions } from '../../dist/actors/gossip-options.js'

const TOPIC = 'dms/jobs/bid-requests/1'
const bootstrap = process.argv.slice(2)
const trusted = bootstrap.map((address) => address.split('/p2p/')[1])
const node = await createLibp2p({
  addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
  transports: [tcp()],
  connectionEncrypters: [noise()],
  streamMuxers: [yamux()],
  connectionManager: { inboundConnectionThreshold: 100, maxConnections: 300 },
  services: { identify: identify(), ping: ping(), pubsub: gossipsub(gossipsubOptions(defaultGossipConfig, trusted, [TOPIC])) }
})
const print = (value) => { process.stdout.write(`${JSON.stringify(value)}\n`) }
node.services.pubsub.subscribe(TOPIC)
node.services.pubsub.addEventListener('message', (event) => {
  if (event.detail.topic !== TOPIC) return
  const bid = JSON.parse(new TextDecoder().decode(event.detail.data))
  print({ type: 'recv', jobId: bid.jobId, time: Date.now() })
})
await Promise.all(bootstrap.map(async (address) => await node.dial(multiaddr(address)).catch(() => {})))
print({ type: 'ready', address: node.getMultiaddrs()[0].toString() })
createInterface({ input: process.stdin }).on('line', (line) => {
  if (!line.startsWith('publish ')) return
  void node.services.pubsub.publish(TOPIC, new TextEncoder().encode(line.slice(8))).then(
    (result) => { print({ type: 'published', recipients: result.recipients.length }) },
    (err) => { print({ type: 'error', message: err.message }) })
})
process.on('SIGTERM', () => { void node.stop().then(() => process.exit(0)) })
