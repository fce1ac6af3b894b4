// `npm run bench fleet -- --nodes 250,500,1000 [--jobs 20] [--before] [--docs]`: a fleet of libp2p nodes in one
// process on a simulated internet (bench/support/fleet-sim.ts), dms-network's stack against bare
// js-libp2p + gossipsub on the same topology and network model. Each run is its own process (memory
// is measured per run); the table goes to bench/results (docs/benchmarks.md with --docs), the
// latency chart to docs/fleet-latency.svg.
import { execFile } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { machineLine, percentile, progress, writeSection } from './report.js'
import { runFleetSim, type FleetSimResult, type Stack } from './support/fleet-sim.js'
import { lineChart } from './support/svg-chart.js'

const self = fileURLToPath(import.meta.url)
const chartPath = fileURLToPath(new URL('../docs/fleet-latency.svg', import.meta.url))

/** One simulation in a fresh process (its memory is its own), as JSON on its last line. */
async function runChild (nodes: number, stack: Stack, jobs: number): Promise<FleetSimResult> {
  const args = ['--expose-gc', '--max-old-space-size=16000', '--import', 'tsx', self, '--child', String(nodes), stack, String(jobs)]
  return await new Promise((resolve, reject) => {
    const child = execFile(process.execPath, args, { maxBuffer: 64 * 1024 * 1024, timeout: 30 * 60_000 }, (err, stdout) => {
      if (err != null) { reject(err); return }
      resolve(JSON.parse(stdout.trim().split('\n').at(-1)!) as FleetSimResult)
    })
    child.stderr?.on('data', (chunk: Buffer) => { process.stderr.write(chunk) })
  })
}

const ms = (v: number | undefined): string => v == null ? '-' : v.toFixed(0)

export async function runFleetBench (argv: string[] = []): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { nodes: { type: 'string' }, jobs: { type: 'string' }, docs: { type: 'boolean' }, before: { type: 'boolean' } }, strict: false })
  const sizes = String(values.nodes ?? '250,500,1000').split(',').map(Number).filter((n) => Number.isInteger(n) && n >= 10)
  const jobs = Number(values.jobs ?? 20)
  const rows: string[] = []
  const results: Array<{ nodes: number, dms: FleetSimResult, bare: FleetSimResult, before?: FleetSimResult }> = []
  for (const nodes of sizes) {
    // the baseline first, then ours, each from a cold process
    progress(`fleet of ${nodes}: bare js-libp2p + gossipsub`)
    const bare = await runChild(nodes, 'bare', jobs)
    progress(`fleet of ${nodes}: dms-network`)
    const dms = await runChild(nodes, 'dms', jobs)
    if (values.before === true) progress(`fleet of ${nodes}: dms-network before the fast message id`)
    const before = values.before === true ? await runChild(nodes, 'dms-before', jobs) : undefined
    results.push({ nodes, dms, bare, before })
    for (const r of before != null ? [dms, before, bare] : [dms, bare]) {
      const q = (p: number): number | undefined => r.latencies.length > 0 ? percentile(r.latencies, p) : undefined
      const steady = r.steadyLatencies.length > 0 ? percentile(r.steadyLatencies, 0.99) : undefined
      rows.push(`| ${nodes} | ${r.stack} | ${(100 * r.delivered / Math.max(1, r.expected)).toFixed(2)} % (${r.delivered}/${r.expected}) | ${ms(q(0.5))} | ${ms(q(0.99))} | ${ms(steady)} | ${ms(r.latencies.at(-1))} | ${r.duplicatesPerDelivery.toFixed(2)} | ${r.mesh.median} / ${r.mesh.min} | ${r.bytesPerDelivery.toFixed(0)} | ${r.mbPerNode.toFixed(2)} | ${(r.setupMs / 1000).toFixed(0)} | ${ms(r.loopDelayP99Ms)} |`)
    }
  }
  const p = (r: FleetSimResult, q: number): number => r.latencies.length > 0 ? percentile(r.latencies, q) : 0
  const x = results.map((r) => r.nodes)
  await writeFile(chartPath, lineChart({
    title: 'Bid request delivery latency against fleet size (simulated network, one process)',
    xLabel: 'nodes',
    yLabel: 'ms',
    x,
    series: [
      { name: 'dms p50', color: '#1f77b4', values: results.map((r) => p(r.dms, 0.5)) },
      { name: 'dms p99', color: '#1f77b4', values: results.map((r) => p(r.dms, 0.99)), dashed: true },
      { name: 'bare p50', color: '#ff7f0e', values: results.map((r) => p(r.bare, 0.5)) },
      { name: 'bare p99', color: '#ff7f0e', values: results.map((r) => p(r.bare, 0.99)), dashed: true }
    ]
  }))
  const ratios = results.map((r) => `${r.nodes}: ${(p(r.dms, 0.99) / Math.max(1, p(r.bare, 0.99))).toFixed(2)}×`).join(', ')
  const withBefore = results.filter((r) => r.before != null)
  const beforeLine = withBefore.length === 0
    ? []
    : [`"dms-before" is dms-network before the fast message id and in-order messages (gossipsub then verified every copy's signature); p99 dms / dms-before: ${withBefore.map((r) => `${r.nodes}: ${(p(r.dms, 0.99) / Math.max(1, p(r.before!, 0.99))).toFixed(2)}×`).join(', ')}.`]
  const lines = [
    `N libp2p nodes in one process on a simulated network (bench/support/fleet-sim.ts, test/support/sim-network.ts), ${machineLine()}.`,
    'Each node has a one-way access delay drawn log-uniform from 10 to 62.5 ms (round trips 40–250 ms, median near 100 ms), every link',
    'loses 0.5 % of segments (each lost one arrives a round trip late) and carries 10 Mbit/s. Nodes join 20 ms apart, each dialling six',
    `earlier ones; then ${jobs} bid requests (200 bytes) are published from the first three nodes, 250 ms apart, while 10 % of the nodes`,
    'leave and rejoin 2 s later. "dms" is dms-network\'s libp2p node (createLibp2pNode: its gossipsub options and scoring, the connection',
    'gater); "bare" is js-libp2p with gossipsub\'s defaults, on the same topology and network. Connections are plaintext for both: one',
    'process cannot also encrypt for a whole fleet. Latency is each receiver\'s first copy; a node that left during a bid is not counted',
    'for it; "never left" is the p99 over the 90 % that did not churn. "Duplicates" are copies a node received and dropped, per delivery;',
    '"bytes" all link traffic during the bids, per delivery; "MB/node" the JS heap and buffers the fleet added, per node; "loop" the',
    'process\'s event loop delay p99 during the bids (the part of the latency that is the simulation\'s own CPU, not the network).',
    '',
    '| nodes | stack | delivered | p50 ms | p99 ms | p99 ms, never left | max ms | duplicates | mesh median / min | bytes | MB/node | setup s | loop p99 ms |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
    '',
    `p99 dms / bare: ${ratios}. Goals at 1,000 nodes: delivery ≥ 99.9 % with churn, p99 ≤ 1 s, ≤ 2 MB per idle node.`,
    ...beforeLine,
    'Dial by peer id through the DHT in the same simulated network: `npm run bench fleet-dht` ("Fleet simulation: dial by peer id").',
    '',
    '![Delivery latency against N](fleet-latency.svg)'
  ]
  process.stdout.write(`\nFleet simulation\n${lines.slice(lines.indexOf('') + 1).join('\n')}\n`)
  await writeSection('Fleet simulation', lines.join('\n'))
}

if (process.argv[2] === '--child') {
  const [nodes, stack, jobs] = [Number(process.argv[3]), process.argv[4] as Stack, Number(process.argv[5])]
  const result = await runFleetSim({ nodes, stack, jobs, progress: (line) => { process.stderr.write(`  … ${line}\n`) } })
  // a pipe takes a large write in pieces: exit once all of it is out
  process.stdout.write(`${JSON.stringify(result)}\n`, () => process.exit(0))
}
