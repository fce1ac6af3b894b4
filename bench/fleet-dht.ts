// `npm run bench fleet-dht -- --nodes 250,500 [--lookups 30] [--docs]`: dial by peer id through the
// DHT in a fleet on the simulated internet of `npm run bench fleet` (bench/support/dht-sim.ts),
// against a dial by address in the same fleet. Each size in its own process; the table goes to
// bench/results (docs/benchmarks.md with --docs).
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { machineLine, percentile, progress, writeSection } from './report.js'
import { runDhtSim, type DhtSimResult } from './support/dht-sim.js'

const self = fileURLToPath(import.meta.url)

async function runChild (nodes: number, lookups: number): Promise<DhtSimResult> {
  const args = ['--max-old-space-size=16000', '--import', 'tsx', self, '--child', String(nodes), String(lookups)]
  return await new Promise((resolve, reject) => {
    const child = execFile(process.execPath, args, { maxBuffer: 16 * 1024 * 1024, timeout: 30 * 60_000 }, (err, stdout) => {
      if (err != null) { reject(err); return }
      resolve(JSON.parse(stdout.trim().split('\n').at(-1)!) as DhtSimResult)
    })
    child.stderr?.on('data', (chunk: Buffer) => { process.stderr.write(chunk) })
  })
}

const at = (values: number[], p: number): string => values.length > 0 ? percentile(values, p).toFixed(0) : '-'

export async function runFleetDhtBench (argv: string[] = []): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { nodes: { type: 'string' }, lookups: { type: 'string' }, docs: { type: 'boolean' } }, strict: false })
  const sizes = String(values.nodes ?? '250,500').split(',').map(Number).filter((n) => Number.isInteger(n) && n >= 10)
  const lookups = Number(values.lookups ?? 30)
  const rows: string[] = []
  const ratios: string[] = []
  for (const nodes of sizes) {
    progress(`dht fleet of ${nodes}`)
    const r = await runChild(nodes, lookups)
    rows.push(`| ${nodes} | ${r.dialled}/${r.lookups} (not found ${r.notFound}, dial failed ${r.dialFailed}) | ${at(r.latencies, 0.5)} | ${at(r.latencies, 0.99)} | ${at(r.hops, 0.5)} | ${at(r.hops, 1)} | ${at(r.byAddress, 0.5)} | ${at(r.byAddress, 0.99)} |`)
    if (r.latencies.length > 0 && r.byAddress.length > 0) ratios.push(`${nodes}: ${(percentile(r.latencies, 0.5) / percentile(r.byAddress, 0.5)).toFixed(1)}×`)
  }
  const lines = [
    `N libp2p nodes with kad-dht in one process on the simulated network of the fleet simulation (round trips 40–250 ms, 0.5 % loss,`,
    `10 Mbit/s links), ${machineLine()}. Nodes join 20 ms apart, each dialling three earlier ones; after 10 s, ${lookups} lookups: a random`,
    'node finds a random peer it is not connected to by id (`findPeer`) and dials it; the nodes are createLibp2pNode with `discovery.dht`',
    'as dms-network configures it (prefix /dms, server mode, queries from the first routing-table peer). Hops: the queries in a row on the',
    'disjoint path that found the peer. Baseline, same fleet and node: a dial to another peer it is not connected to, by its address.',
    '',
    '| nodes | found and dialled | by id p50 ms | p99 ms | hops p50 | hops max | by address p50 ms | p99 ms |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
    '',
    `By id / by address, p50: ${ratios.join(', ') || '-'}. Goal: dial by id p50 ≤ 3 DHT hops.`
  ]
  process.stdout.write(`\nDial by peer id in a fleet\n${lines.slice(6).join('\n')}\n`)
  await writeSection('Fleet simulation: dial by peer id', lines.join('\n'))
}

if (process.argv[2] === '--child') {
  const [nodes, lookups] = [Number(process.argv[3]), Number(process.argv[4])]
  const result = await runDhtSim({ nodes, lookups, progress: (line) => { process.stderr.write(`  … ${line}\n`) } })
  process.stdout.write(`${JSON.stringify(result)}\n`, () => process.exit(0))
}
