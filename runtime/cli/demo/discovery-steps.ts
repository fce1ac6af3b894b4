import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createNode } from '../../node.js'
import type { DmsNode } from '../../node.js'
import { shortId } from '../format.js'
import type { DemoStep } from './context.js'

/** Discovery: a node reaches a peer it knows only by id, through the DHT (docs/discovery.md). */
export const discoverySteps: DemoStep[] = [
  {
    title: 'Find a peer by id alone through the DHT',
    run: async ({ note }) => {
      const root = await mkdtemp(join(tmpdir(), 'dms-demo-dht-'))
      const nodes: DmsNode[] = []
      const start = async (name: string, bootstrap: string[] = []): Promise<DmsNode> => {
        const node = createNode({ dataDir: join(root, name), bootstrap, discovery: { dht: true } })
        nodes.push(node)
        await node.start()
        return node
      }
      try {
        const hub = await start('dht-hub')
        const bootstrap = [hub.status().host.addresses[0]!]
        const [dave, erin] = await Promise.all([start('dave', bootstrap), start('erin', bootstrap)])
        note(`dave and erin know only the hub ${shortId(hub.peerId)}; dave dials erin by id ${shortId(erin!.peerId)}`)
        const started = performance.now()
        const { remoteAddr } = await dave!.dial(erin!.peerId)
        const d = dave!.status().discovery[0]!
        note(`found ${remoteAddr} (${d.mechanisms.join(', ')}; peers found: bootstrap ${d.found.bootstrap}, dht ${d.found.dht})`)
        return `connected in ${(performance.now() - started).toFixed(0)} ms`
      } finally {
        await Promise.allSettled(nodes.map(async (node) => { await node.stop() }))
        await rm(root, { recursive: true, force: true })
      }
    }
  }
]
