// A private-network node in its own process that checks a deterministic byte stream.
// argv: <key hex> <total bytes> <chunk bytes> <seed hex>. Prints `listening <multiaddr>`, then `result <json>`.
import { generateKeyPair } from '@libp2p/crypto/keys'
import { createLibp2pNode } from '../../actors/libp2p-node.js'
import { privateNetwork } from '../../actors/private-network/protector.js'
import { bulkChunk, expandSeed } from './bulk-pattern.js'

const [keyHex, totalText, chunkText, seedHex] = process.argv.slice(2) as [string, string, string, string]
const total = Number(totalText)
const chunkSize = Number(chunkText)
const seed = expandSeed(seedHex, chunkSize)
const node = await createLibp2pNode({ privateKey: await generateKeyPair('Ed25519'), connectionProtector: privateNetwork({ key: new Uint8Array(Buffer.from(keyHex, 'hex')) }) })
let received = 0
let mismatchAt = -1
let expected = bulkChunk(seed, 0)
const finish = async (error?: string): Promise<void> => {
  process.stdout.write(`result ${JSON.stringify({ received, mismatchAt, error })}\n`)
  await node.stop()
  process.exit(0)
}
await node.handle('/dms/test/bulk/1.0.0', (stream) => {
  stream.addEventListener('message', (event) => {
    const data = event.data instanceof Uint8Array ? event.data : event.data.subarray()
    let offset = 0
    while (offset < data.byteLength) {
      const at = received % chunkSize
      const take = Math.min(chunkSize - at, data.byteLength - offset)
      if (mismatchAt < 0 && Buffer.compare(data.subarray(offset, offset + take), expected.subarray(at, at + take)) !== 0) mismatchAt = received
      offset += take
      received += take
      if (received % chunkSize === 0) expected = bulkChunk(seed, received / chunkSize)
    }
    if (received >= total) void finish()
  })
  stream.addEventListener('close', (event) => { if (received < total) void finish(`stream closed: ${event.error?.message ?? 'cleanly'}`) })
}, { maxInboundStreams: 1 })
await node.start()
process.stdout.write(`listening ${node.getMultiaddrs()[0]!.toString()}\n`)
