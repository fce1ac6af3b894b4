import { shortId } from '../format.js'
import { until } from './context.js'
import type { DemoStep } from './context.js'
import { DmsError } from '../../errors.js'


/** The foundation's story: connect, identify, message, request, publish a job. */
export const basicSteps: DemoStep[] = [
  {
    title: 'Start three nodes on 127.0.0.1',
    run: async ({ nodes, note }) => {
      await Promise.all(nodes.map(async ({ node }) => { await node.start() }))
      for (const { name, node } of nodes) note(`${name.padEnd(6)} ${node.status().host.addresses[0]}`)
      return undefined
    }
  },
  {
    title: 'Connect them (bob and carol dial alice, carol dials bob)',
    run: async ({ nodes }) => {
      const [alice, bob, carol] = nodes.map((n) => n.node) as [typeof nodes[0]['node'], typeof nodes[0]['node'], typeof nodes[0]['node']]
      const started = Date.now()
      await bob.dial(alice.status().host.addresses[0]!)
      await carol.dial(alice.status().host.addresses[0]!)
      await carol.dial(bob.status().host.addresses[0]!)
      await until('every peer actor to be identified', () => nodes.every(({ node }) =>
        node.status().peers.filter((p) => p.state === 'identified').length === 2))
      return `6 peer actors identified (${Date.now() - started} ms after the first dial)`
    }
  },
  {
    title: 'Exchange typed messages',
    run: async ({ nodes, note }) => {
      const [alice, bob, carol] = nodes as [typeof nodes[0], typeof nodes[0], typeof nodes[0]]
      const inbox: string[] = []
      carol.node.handle('chat.message', (body, meta) => { inbox.push(`${shortId(meta.from)}: ${(body as { text: string }).text}`) })
      bob.node.handle('math.sum', (body) => (body as number[]).reduce((a, b) => a + b, 0))
      await alice.node.send(carol.node.peerId, 'chat.message', { text: 'hello carol, this is alice' })
      await until('carol to receive the message', () => inbox.length === 1)
      note(`carol got  "${inbox[0]}"`)
      const started = performance.now()
      const sum = await alice.node.request<number>(bob.node.peerId, 'math.sum', [19, 23])
      note(`alice asked bob math.sum [19, 23] → ${sum} (${(performance.now() - started).toFixed(1)} ms round trip)`)
      // what a peer running another version meets: a type bob does not know is refused on its own, the stream stays
      const refusal = await alice.node.request(bob.node.peerId, 'math.product', [6, 7]).then(() => undefined, (err: { remoteCode?: string }) => err.remoteCode)
      const again = await alice.node.request<number>(bob.node.peerId, 'math.sum', [1, 2])
      note(`math.product is a newer version's: bob refused it (${refusal ?? 'answered?'}), and answered math.sum [1, 2] → ${again} on the same stream`)
      return undefined
    }
  },
  {
    title: 'Publish a job bid request over gossipsub',
    run: async ({ nodes, note }) => {
      const [alice, ...others] = nodes as [typeof nodes[0], ...typeof nodes]
      const seen = new Set<string>()
      for (const { name, node } of others) node.onJob((bid) => { if (bid.jobId === 'demo-job') seen.add(name) })
      const bid = { jobId: 'demo-job', resources: { cpuCores: 2, memoryMb: 2048 }, price: { max: 5, currency: 'DMS' }, deadline: Date.now() + 60_000 }
      const deadline = Date.now() + 10_000
      while (seen.size < others.length && Date.now() < deadline) {
        await alice.node.publishJob(bid)
        await new Promise((resolve) => setTimeout(resolve, 300))
      }
      if (seen.size < others.length) throw new DmsError('FEATURE_FAILED', `only ${[...seen].join(', ') || 'nobody'} received the job`)
      note(`${[...seen].sort().join(' and ')} received job demo-job (2 cores, 2048 MB, max 5 DMS)`)
      return undefined
    }
  }
]

/** The last step: a node leaves and the others' peer actors follow. */
export const departureStep: DemoStep = {
  title: 'Carol leaves: the others\' peer actors follow',
  run: async ({ nodes, note, watch }) => {
    const [alice, bob, carol] = nodes as [typeof nodes[0], typeof nodes[0], typeof nodes[0]]
    await carol.node.stop()
    await watch('alice and bob to see carol disconnected', () => [alice, bob].every(({ node }) =>
      node.status().peers.find((p) => p.peerId === carol.node.peerId)?.state === 'disconnected'))
    note('carol\'s peer actor at alice and bob: identified → disconnected')
    return undefined
  }
  }
