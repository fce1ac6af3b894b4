// A fleet of libp2p nodes in one process on a simulated network (test/support/sim-network.ts):
// nodes join over time, each dialling a few earlier ones, 10 % of them leave and rejoin while bid
// requests are published over gossipsub, and every receiver's first copy is timed. Connections
// are not encrypted (plaintext instead of Noise, for both stacks): a real fleet encrypts on
// thousands of CPUs, one process would spend its one core on it; for the same reason nothing is
// logged and keep-alive pings are off, for both. The `dms` stack
// is dms-network's own libp2p node (createLibp2pNode: the real gossipsub options and scoring, the
// connection gater); the `bare` stack is js-libp2p with gossipsub's defaults, on the same network.
import { createLibp2p } from 'libp2p'
import { plaintext } from '@libp2p/plaintext'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import { gossipsub } from '@libp2p/gossipsub'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { ComponentLogger, Libp2p, PrivateKey } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { createLibp2pNode } from '../../actors/libp2p-node.js'
import { defaultGossipConfig } from '../../actors/gossip-options.js'
import { meshPeerCount } from '../../actors/libp2p-internals.js'
import { BID_REQUEST_TOPIC } from '../../actors/wire/bid-request.js'
import { SimNetwork } from '../../test/support/sim-network.js'
import { prng } from '../../test/support/prng.js'

/**
 * `dms-before` is `dms` as it was before the fast message id and in-order messages
 * (actors/gossip-options.ts): gossipsub verified the signature of every copy. For the
 * before-and-after figure only.
 */
export type Stack = 'dms' | 'bare' | 'dms-before'

export interface FleetSimInit {
  nodes: number
  stack: Stack
  /** Earlier nodes each new node dials. @default 6 */
  dials?: number
  /** Share of nodes that leave and rejoin during the bids. @default 0.1 */
  churn?: number
  /** Bid requests published, one every `publishEveryMs`. @default 20 */
  jobs?: number
  publishEveryMs?: number
  /** Milliseconds between two nodes joining. @default 20 */
  joinEveryMs?: number
  /** Milliseconds for the mesh to form before the bids, and for the last bid to arrive. @default 5000 */
  settleMs?: number
  seed?: number
  /** Told of progress (phase names). */
  progress?: (line: string) => void
}

export interface FleetSimResult {
  stack: Stack
  nodes: number
  expected: number
  delivered: number
  /** Delivery latencies (first copy at each receiver), ms, sorted. */
  latencies: number[]
  /** The same for receivers that never left: what churn adds is the difference. Sorted. */
  steadyLatencies: number[]
  /** Copies received and dropped as duplicates, per delivered copy. */
  duplicatesPerDelivery: number
  /** Mesh peers on the bid topic: median and lowest over nodes up at the end. */
  mesh: { median: number, min: number }
  /** Bytes sent over all links during the bids, per delivered bid. */
  bytesPerDelivery: number
  /** JS heap and buffers grown over the fleet's start, per node, MB (after a garbage collection when exposed). */
  mbPerNode: number
  setupMs: number
  /** The process's event loop delay during the bids (p99, ms): how much of the latency is the simulation's own CPU. */
  loopDelayP99Ms: number
}

/**
 * Per-node access delay, log-uniform in 10–62.5 ms one way: the round trip between two nodes is
 * 2 × (a + b), 40–250 ms with a median near 100 ms, like home connections across a continent.
 */
export function networkModel (count: number, random: () => number): SimNetwork {
  const access = Array.from({ length: count }, () => 10 * Math.pow(6.25, random()))
  const indexOf = (address: string): number => Number(/\/memory\/n(\d+)/.exec(address)?.[1] ?? 0)
  return new SimNetwork({ latencyMs: (a, b) => access[indexOf(a)]! + access[indexOf(b)]!, loss: 0.005, bytesPerMs: 1250 })
}

/** A logger that logs nothing: libp2p makes one per connection and stream, and a fleet has many. */
const quiet = Object.assign(() => {}, { enabled: false, error: () => {}, trace: () => {}, newScope: () => quiet })
export const silent = { forComponent: () => quiet } as unknown as ComponentLogger

const gc = (): void => { (globalThis as { gc?: () => void }).gc?.() }
const sleep = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }

export async function runFleetSim (init: FleetSimInit): Promise<FleetSimResult> {
  const random = prng(init.seed ?? 7)
  const count = init.nodes
  const dials = init.dials ?? 6
  const net = networkModel(count, random)
  const keys: PrivateKey[] = await Promise.all(Array.from({ length: count }, async () => await generateKeyPair('Ed25519')))
  const hubs = keys.slice(0, 3).map((k) => k.publicKey.toString())
  const nodes: Array<Libp2p | undefined> = new Array(count)
  const up: boolean[] = new Array(count).fill(false)
  const address = (i: number): string => `/memory/n${i}`
  const arrivals = new Map<string, number>()
  const published = new Map<number, { at: number, receivers: Set<number> }>()
  let duplicates = 0

  const create = async (i: number): Promise<Libp2p> => {
    const node: Libp2p = init.stack !== 'bare'
      ? await createLibp2pNode({ privateKey: keys[i]!, logger: silent, simulated: { transport: net.transport(), encrypter: plaintext() }, listen: [address(i)], pubsub: defaultGossipConfig, trustedPeers: hubs, sparseTopics: [BID_REQUEST_TOPIC], inboundConnectionThreshold: 100_000, maxIncomingPendingConnections: 1024, maxPendingUpgradesPerIp: 1024, dialTimeoutMs: 10_000 })
      : await createLibp2p({ privateKey: keys[i]!, logger: silent, connectionMonitor: { enabled: false }, addresses: { listen: [address(i)] }, transports: [net.transport() as never], connectionEncrypters: [plaintext()], streamMuxers: [yamux()], connectionManager: { inboundConnectionThreshold: 100_000, maxIncomingPendingConnections: 1024 }, services: { identify: identify(), pubsub: gossipsub() } })
    const pubsub = (node as unknown as { services: { pubsub: { subscribe: (t: string) => void, addEventListener: (e: string, f: (evt: CustomEvent) => void) => void, score: { duplicateMessage: (...args: unknown[]) => void }, fastMsgIdFn?: unknown, opts: { awaitRpcMessageHandler: boolean } } } }).services.pubsub
    if (init.stack === 'dms-before') Object.assign(pubsub, { fastMsgIdFn: undefined, opts: { ...pubsub.opts, awaitRpcMessageHandler: false } })
    const duplicateMessage = pubsub.score.duplicateMessage.bind(pubsub.score)
    pubsub.score.duplicateMessage = (...args: unknown[]) => { duplicates++; duplicateMessage(...args) }
    pubsub.addEventListener('message', (evt: CustomEvent) => {
      const data = (evt.detail as { data: Uint8Array }).data
      const job = new DataView(data.buffer, data.byteOffset).getUint32(0)
      const key = `${job}:${i}`
      if (!arrivals.has(key)) arrivals.set(key, performance.now() - (published.get(job)?.at ?? performance.now()))
    })
    await node.start()
    pubsub.subscribe(BID_REQUEST_TOPIC)
    return node
  }

  const join = async (i: number): Promise<void> => {
    const node = await create(i)
    nodes[i] = node
    up[i] = true
    const candidates = Array.from({ length: i === 0 ? 0 : count }, (_, j) => j).filter((j) => j !== i && up[j])
    const targets = new Set<number>()
    for (let k = 0; k < Math.min(dials, candidates.length) * 3 && targets.size < Math.min(dials, candidates.length); k++) targets.add(candidates[Math.floor(random() * candidates.length)]!)
    await Promise.all([...targets].map(async (j) => { await node.dial(multiaddr(`${address(j)}/p2p/${keys[j]!.publicKey.toString()}`)).catch(() => {}) })) // a peer leaving just now
  }

  const used = (): number => { gc(); const m = process.memoryUsage(); return m.heapUsed + m.external }
  const usedBefore = used()
  const started = performance.now()
  try {
    const joining: Array<Promise<void>> = []
    for (let i = 0; i < count; i++) {
      if (i % 100 === 0) init.progress?.(`${init.stack}: ${i} of ${count} nodes joining`)
      joining.push(join(i))
      await sleep(init.joinEveryMs ?? 20)
    }
    await Promise.all(joining)
    // the mesh forms over a few heartbeats (1 s each)
    await sleep(init.settleMs ?? 5000)
    const setupMs = performance.now() - started
    const mbPerNode = (used() - usedBefore) / count / 1048576

    // bids while 10 % of the nodes (never the first three) leave and come back
    const churners = new Set<number>()
    const wanted = Math.floor(count * (init.churn ?? 0.1))
    while (churners.size < wanted) churners.add(3 + Math.floor(random() * (count - 3)))
    const churnList = [...churners]
    const jobs = init.jobs ?? 20
    const every = init.publishEveryMs ?? 250
    const bytesBefore = net.bytes
    // each leaves at its moment in the bids' window and comes back 2 s later, with its identity and address
    const churn = Promise.all(churnList.map(async (i, n) => {
      await sleep((n * jobs * every) / churnList.length)
      up[i] = false
      await nodes[i]?.stop()
      nodes[i] = undefined
      await sleep(2000)
      await join(i)
    }))
    init.progress?.(`${init.stack}: publishing ${jobs} bid requests with churn`)
    const loop = monitorEventLoopDelay({ resolution: 10 })
    loop.enable()
    for (let job = 0; job < jobs; job++) {
      const from = Math.floor(random() * 3)
      const receivers = new Set(Array.from({ length: count }, (_, j) => j).filter((j) => j !== from && up[j]))
      const data = new Uint8Array(200)
      new DataView(data.buffer).setUint32(0, job)
      published.set(job, { at: performance.now(), receivers })
      await (nodes[from] as unknown as { services: { pubsub: { publish: (t: string, d: Uint8Array) => Promise<unknown> } } }).services.pubsub.publish(BID_REQUEST_TOPIC, data).catch(() => {})
      await sleep(every)
    }
    await churn
    await sleep(init.settleMs ?? 5000)
    loop.disable()
    // a receiver that left after the bid and before it could arrive is not counted against delivery
    let expected = 0
    const latencies: number[] = []
    const steadyLatencies: number[] = []
    for (const [job, { receivers }] of published) {
      for (const j of receivers) {
        const latency = arrivals.get(`${job}:${j}`)
        if (latency == null && churners.has(j)) continue
        expected++
        if (latency != null) latencies.push(latency)
        if (latency != null && !churners.has(j)) steadyLatencies.push(latency)
      }
    }
    const meshes = nodes.filter((n, i) => n != null && up[i]).map((n) => meshPeerCount((n as unknown as { services: { pubsub: object } }).services.pubsub, BID_REQUEST_TOPIC)).sort((a, b) => a - b)
    latencies.sort((a, b) => a - b)
    steadyLatencies.sort((a, b) => a - b)
    return {
      stack: init.stack,
      nodes: count,
      expected,
      delivered: latencies.length,
      latencies,
      steadyLatencies,
      duplicatesPerDelivery: duplicates / Math.max(1, latencies.length),
      mesh: { median: meshes[Math.floor(meshes.length / 2)] ?? 0, min: meshes[0] ?? 0 },
      bytesPerDelivery: (net.bytes - bytesBefore) / Math.max(1, latencies.length),
      mbPerNode,
      setupMs,
      loopDelayP99Ms: loop.percentile(99) / 1e6
    }
  } finally {
    await Promise.allSettled(nodes.map(async (node) => { await node?.stop() }))
  }
}
