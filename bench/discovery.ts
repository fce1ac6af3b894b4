import '../actors/polyfill.js'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { createNode } from '../runtime/node.js'
import type { DmsNode } from '../runtime/node.js'
import { NatNetwork } from '../test/support/nat-network.js'
import type { NatNode } from '../test/support/nat-network.js'
import { writeSection, machineLine, percentile } from './report.js'
import { bareDhtNode, bareDialById } from './support/bare-dht-node.js'
import { runHomeToHomeBench } from './home-to-home.js'
import { runNatMatrixBench } from './nat-matrix.js'
import { until } from './support/until.js'
import { run } from '../runtime/netdev/run.js'

const ms = (values: number[]): string => `${percentile(values, 0.5).toFixed(0)} ms | ${values.at(-1)!.toFixed(0)} ms`
const sorted = (values: number[]): number[] => [...values].sort((a, b) => a - b)

/**
 * A 20-node DHT network on 127.0.0.1 in one process. Each round a new node that
 * knows only the bootstrap node dials a member by peer id alone (DHT lookup +
 * connect); the baseline is the same new node dialling a member whose address
 * it is given.
 */
export async function lookupBench (rounds: number): Promise<{ byIdMs: number[], byAddressMs: number[], fromStartMs: number[], bareMs: number[], bareWarmMs: number[] }> {
  const root = await mkdtemp(join(tmpdir(), 'dms-bench-dht-'))
  const nodes: DmsNode[] = []
  const make = async (name: string, bootstrap: string[] = []): Promise<DmsNode> => {
    const node = createNode({ dataDir: join(root, name), bootstrap, discovery: { dht: true } })
    nodes.push(node)
    await node.start()
    return node
  }
  try {
    const hub = await make('hub')
    const bootstrap = [hub.status().host.addresses[0]!]
    const members = await Promise.all(Array.from({ length: 19 }, async (_, i) => await make(`m${i}`, bootstrap)))
    // let the routing tables fill: every member has run its first DHT queries
    await new Promise((resolve) => setTimeout(resolve, 3000))
    const byIdMs: number[] = []
    const byAddressMs: number[] = []
    const fromStartMs: number[] = []
    const bareMs: number[] = []
    const bareWarmMs: number[] = []
    for (let round = 0; round < rounds; round++) {
      // baseline: a bare js-libp2p node with kad-dht at its defaults, same protocol, same network, same moment
      {
        const bare = await bareDhtNode(bootstrap[0]!)
        const target = members[(round * 7 + 1) % members.length]!
        await until('bare node has its bootstrap peer in its DHT', () => (bare.services.dht as { routingTable: { size: number } }).routingTable.size > 0, 10_000)
        const started = performance.now()
        await bareDialById(bare, target.peerId)
        bareMs.push(performance.now() - started)
        // and once its first self-query is behind it: a second lookup, for another member
        const warm = performance.now()
        await bareDialById(bare, members[(round * 7 + 2) % members.length]!.peerId)
        bareWarmMs.push(performance.now() - warm)
        await bare.stop()
      }
      for (const mode of ['id', 'address'] as const) {
        const begun = performance.now()
        const fresh = await make(`fresh-${mode}-${round}`, bootstrap)
        const target = members[(round * 7 + (mode === 'id' ? 3 : 5)) % members.length]!
        // the new node's own start-up ends when it is connected to its bootstrap node
        await until('connected to the bootstrap node', () => fresh.status().peers.some((p) => p.peerId === hub.peerId && p.state === 'identified'), 10_000)
        const started = performance.now()
        await fresh.dial(mode === 'id' ? target.peerId : target.status().host.addresses[0]!)
        ;(mode === 'id' ? byIdMs : byAddressMs).push(performance.now() - started)
        if (mode === 'id') fromStartMs.push(performance.now() - begun)
        await fresh.stop()
      }
    }
    return { byIdMs: sorted(byIdMs), byAddressMs: sorted(byAddressMs), fromStartMs: sorted(fromStartMs), bareMs: sorted(bareMs), bareWarmMs: sorted(bareWarmMs) }
  } finally {
    await Promise.allSettled(nodes.map(async (node) => { await node.stop() }))
    await rm(root, { recursive: true, force: true })
  }
}

interface StartPhases { startMs: number, reachableMs: number, firstReplyMs: number }

/**
 * Behind NAT: a relay on the wan, node A at home holding a reservation. Each
 * round node B starts (a daemon in its own home behind its own NAT, or, for the
 * baseline, on the wan with a public address) and A reaches it by peer id.
 * Phases: process start to control socket; to reachable (B holds a relay
 * reservation / B is listening); to A's first request answered by B.
 */
async function natBench (rounds: number): Promise<{ relayed: StartPhases[], direct: StartPhases[] }> {
  const net = await NatNetwork.create([{}, {}], { startHomes: false, publicHosts: 1 })
  try {
    const a = await net.startHome(0)
    const reserved = async (node: NatNode): Promise<boolean> => (await node.status().catch(() => undefined))?.discovery[0]?.relay === 'reserved'
    await until('A holds a reservation', async () => await reserved(a), 30_000)
    const relayed: StartPhases[] = []
    const direct: StartPhases[] = []
    for (let round = 0; round < rounds; round++) {
      for (const mode of ['relayed', 'direct'] as const) {
        const started = performance.now()
        const b = mode === 'relayed' ? await net.startHome(1) : await net.startPublic(1)
        const startMs = performance.now() - started
        if (mode === 'relayed') await until('B holds a reservation', async () => await reserved(b), 30_000)
        const reachableMs = performance.now() - started
        // the request is answered by B's own handler (it leads no VPN): a round trip through whatever path A found
        await until('A reaches B by id', async () => await a.call('request', { peer: b.peerId, type: 'vpn.sync', body: {}, timeoutMs: 5000 })
          .then(() => true, (err: Error) => /does not lead a VPN/.test(err.message)), 30_000)
        const firstReplyMs = performance.now() - started
        ;(mode === 'relayed' ? relayed : direct).push({ startMs, reachableMs, firstReplyMs })
        await b.daemon.stop()
      }
    }
    return { relayed, direct }
  } finally {
    await net.stop()
  }
}

const median = (phases: StartPhases[], key: keyof StartPhases): number => percentile(sorted(phases.map((p) => p[key])), 0.5)

export async function runDiscoveryBench (options: { write?: boolean, rounds?: number } = {}): Promise<void> {
  const rounds = options.rounds ?? 5
  const lookup = await lookupBench(rounds * 2)
  const lines = [
    `20 nodes with the DHT on 127.0.0.1 in one process, ${machineLine()}; ${rounds * 2} rounds. Each round a new node that knows only`,
    'the bootstrap node dials a member, once connected to the bootstrap node: by peer id alone (the DHT finds its addresses),',
    'and, as the baseline, by its full address.',
    '',
    '| dial | p50 | max |',
    '| --- | --- | --- |',
    `| by peer id (DHT lookup + connect) | ${ms(lookup.byIdMs)} |`,
    `| by peer id, counting the new node's start and bootstrap | ${ms(lookup.fromStartMs)} |`,
    `| by address (baseline) | ${ms(lookup.byAddressMs)} |`,
    `| bare js-libp2p + kad-dht defaults: findPeer + dial, first lookup (baseline) | ${ms(lookup.bareMs)} |`,
    `| the same bare node's second dial by id, after its self-query (it is then connected to every member) | ${ms(lookup.bareWarmMs)} |`,
    '',
    `Dial by id: ${(percentile(lookup.byIdMs, 0.5) / percentile(lookup.bareMs, 0.5)).toFixed(2)}× the bare kad-dht's first findPeer + dial `
      + '(its second is no lookup: the self-query has connected it to every member), '
      + `${(percentile(lookup.byIdMs, 0.5) / percentile(lookup.byAddressMs, 0.5)).toFixed(1)}× a dial by address (p50). A bare kad-dht makes a`,
    'new node\'s first lookup wait for its self-query (a walk of the whole network here); dms-network starts the lookup from the peers',
    'already in its routing table (`allowQueryWithZeroPeers`, waiting only for the first one; not on nodes with a relay client).'
  ]
  process.stdout.write(`\nDHT peer routing\n${lines.slice(3).join('\n')}\n`)
  if (options.write !== false) await writeSection('Discovery: DHT peer routing', lines.join('\n'))

  if (process.getuid?.() !== 0) { process.stdout.write('\nbehind NAT: needs root for namespaces, skipped\n'); return }
  const nat = await natBench(rounds)
  const row = (label: string, phases: StartPhases[]): string =>
    `| ${label} | ${median(phases, 'startMs').toFixed(0)} ms | ${median(phases, 'reachableMs').toFixed(0)} ms | ${median(phases, 'firstReplyMs').toFixed(0)} ms |`
  const natLines = [
    `A relay on a wan switch, homes behind nftables-masquerade routers, every node a \`dms-net node\` daemon in its namespace; ${machineLine()};`,
    `${rounds} rounds, medians. Node A (at home, holding a reservation) reaches node B by peer id; B starts at 0 ms. "Reachable": B holds a`,
    'relay reservation (behind NAT) or listens (public). "First reply": A\'s request answered by B, through the relay or directly. The',
    'baseline is B on the wan with a public address.',
    '',
    '| B | process up | reachable | first reply |',
    '| --- | --- | --- | --- |',
    row('behind NAT (relayed)', nat.relayed),
    row('public (direct, baseline)', nat.direct),
    '',
    `Start to a usable relayed connection: ${median(nat.relayed, 'firstReplyMs').toFixed(0)} ms, ${(median(nat.relayed, 'firstReplyMs') / median(nat.direct, 'firstReplyMs')).toFixed(2)}× the direct baseline; `
      + `after the process is up: ${(median(nat.relayed, 'firstReplyMs') - median(nat.relayed, 'startMs')).toFixed(0)} ms vs ${(median(nat.direct, 'firstReplyMs') - median(nat.direct, 'startMs')).toFixed(0)} ms.`
  ]
  process.stdout.write(`\nBehind NAT\n${natLines.slice(5).join('\n')}\n`)
  if (options.write !== false) await writeSection('Discovery: relayed connection behind NAT', natLines.join('\n'))

  for (const [tool, pkg] of [['iperf3', 'iperf3'], ['turnserver', 'coturn']]) {
    await run('sh', ['-c', `command -v ${tool}`]).catch(() => { throw new Error(`the home-to-home bench needs ${tool} (apt-get install ${pkg})`) })
  }
  await runHomeToHomeBench({ rounds, ...(options.write === false ? { write: false } : {}) })
  await runNatMatrixBench({ attempts: 10, ...(options.write === false ? { write: false } : {}) })
}

if (import.meta.url === pathToFileURL(process.argv[1]!).href) await runDiscoveryBench()
