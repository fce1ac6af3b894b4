// Dial by peer id through the DHT, in a fleet on the simulated network of fleet-sim.ts: N nodes
// with kad-dht as dms-network configures it (createLibp2pNode with discovery.dht) join over time,
// each dialling a few earlier ones; the routing tables settle; then nodes look up peers they are not
// connected to and dial them. The baseline, in the same fleet: a dial to a peer whose address is
// known. (A bare js-libp2p + kad-dht fleet with kad-dht's defaults was tried as the baseline: on this
// simulated transport it spins a core from the first seconds, even at 10 nodes, and finds nothing.)
import { plaintext } from '@libp2p/plaintext'
import type { KadDHT } from '@libp2p/kad-dht'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { Libp2p, PrivateKey } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import type { Multiaddr } from '@multiformats/multiaddr'
import { createLibp2pNode } from '../../actors/libp2p-node.js'
import { parseDiscovery } from '../../runtime/discovery/config.js'
import { networkModel, silent } from './fleet-sim.js'
import { prng } from '../../test/support/prng.js'

export interface DhtSimResult {
  nodes: number
  lookups: number
  /** Lookups that found the peer and dialled it. */
  dialled: number
  /** Time from the lookup's start to the connection, ms, sorted (successful ones). */
  latencies: number[]
  /** Queries in a row on the disjoint path that found the peer, sorted (successful ones). */
  hops: number[]
  /** The baseline: dials to a peer not connected whose address is known, ms, sorted. */
  byAddress: number[]
  /** Lookups that ended without the peer, and found peers the dial failed to reach. */
  notFound: number
  dialFailed: number
}

const sleep = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }

export async function runDhtSim (init: { nodes: number, lookups?: number, dials?: number, joinEveryMs?: number, settleMs?: number, seed?: number, progress?: (line: string) => void }): Promise<DhtSimResult> {
  const random = prng(init.seed ?? 11)
  const count = init.nodes
  const net = networkModel(count, random)
  const keys: PrivateKey[] = await Promise.all(Array.from({ length: count }, async () => await generateKeyPair('Ed25519')))
  const nodes: Libp2p[] = []
  const address = (i: number): string => `/memory/n${i}`
  const create = async (i: number): Promise<Libp2p> => {
    const node: Libp2p = await createLibp2pNode({ privateKey: keys[i]!, logger: silent, simulated: { transport: net.transport(), encrypter: plaintext() }, listen: [address(i)], discovery: parseDiscovery({ dht: true }, []), inboundConnectionThreshold: 100_000, maxIncomingPendingConnections: 1024, maxPendingUpgradesPerIp: 1024, dialTimeoutMs: 10_000 })
    await node.start()
    return node
  }
  try {
    for (let i = 0; i < count; i++) {
      if (i % 100 === 0) init.progress?.(`dht: ${i} of ${count} nodes joining`)
      const node = await create(i)
      nodes.push(node)
      const targets = new Set<number>()
      for (let k = 0; k < 3 * (init.dials ?? 3) && targets.size < Math.min(init.dials ?? 3, i); k++) targets.add(Math.floor(random() * i))
      await Promise.all([...targets].map(async (j) => { await node.dial(multiaddr(`${address(j)}/p2p/${peerIdFromPrivateKey(keys[j]!).toString()}`)).catch(() => {}) }))
      await sleep(init.joinEveryMs ?? 20)
    }
    init.progress?.(`dht: routing tables settling`)
    await sleep(init.settleMs ?? 10_000)
    const lookups = init.lookups ?? 30
    const latencies: number[] = []
    const hops: number[] = []
    const byAddress: number[] = []
    let notFound = 0
    let dialFailed = 0
    const stranger = (from: Libp2p): number => {
      let target = Math.floor(random() * count)
      while (from.getConnections(peerIdFromPrivateKey(keys[target]!)).length > 0 || nodes[target] === from) target = Math.floor(random() * count)
      return target
    }
    for (let n = 0; n < lookups; n++) {
      const from = nodes[Math.floor(random() * count)]!
      // the baseline: a peer it is not connected to, at a known address
      const known = stranger(from)
      const dialStarted = performance.now()
      await from.dial(multiaddr(`${address(known)}/p2p/${peerIdFromPrivateKey(keys[known]!).toString()}`), { signal: AbortSignal.timeout(10_000) })
        .then(() => { byAddress.push(performance.now() - dialStarted) }, () => {})
      const target = stranger(from)
      const id = peerIdFromPrivateKey(keys[target]!)
      const started = performance.now()
      const queriesByPath = new Map<number, number>()
      let foundOn: number | undefined
      let found: Multiaddr[] = []
      try {
        const dht = (from as unknown as { services: { dht: KadDHT } }).services.dht
        for await (const event of dht.findPeer(id, { signal: AbortSignal.timeout(20_000) })) {
          if (event.name === 'SEND_QUERY') queriesByPath.set(event.path.index, (queriesByPath.get(event.path.index) ?? 0) + 1)
          if (event.name === 'FINAL_PEER') { foundOn = event.path.index; found = event.peer.multiaddrs; break }
        }
        if (foundOn == null || found.length === 0) { notFound++; continue }
        // the addresses the lookup returned (the DHT service itself does not store them). Ending the
        // lookup aborts its own dial to the peer, which libp2p's dial queue may have merged with
        // this one: a dial that fails so is made once more.
        const addresses = found.map((a) => a.toString().includes('/p2p/') ? a : a.encapsulate(`/p2p/${id.toString()}`))
        const dial = async (): Promise<boolean> => await from.dial(addresses, { signal: AbortSignal.timeout(10_000) }).then(() => true, () => false)
        const dialled = await dial() || await dial()
        if (!dialled) { dialFailed++; continue }
        latencies.push(performance.now() - started)
        // hops: the queries on the path that found it (one when the first peer asked knew it; none
        // when the node itself knew the address)
        hops.push(queriesByPath.get(foundOn) ?? 0)
      } catch {
        notFound++ // the lookup itself failed or timed out
      }
    }
    return { nodes: count, lookups, dialled: latencies.length, latencies: latencies.sort((a, b) => a - b), hops: hops.sort((a, b) => a - b), byAddress: byAddress.sort((a, b) => a - b), notFound, dialFailed }
  } finally {
    await Promise.allSettled(nodes.map(async (node) => { await node.stop() }))
  }
}
