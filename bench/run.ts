// `npm run bench`: every benchmark, each against a baseline measured in the same run.
// Results are printed and written to bench/results/ (docs/benchmarks.md too with --docs).
// Benchmarks are not tests. `npm run bench scale -- --nodes 100 --jobs 20`.
import '../actors/polyfill.js'
import { runMessengerBench } from './messenger.js'
import { runSwarmBench } from './swarm.js'
import { runVpnBench } from './vpn.js'
import { runDiscoveryBench } from './discovery.js'
import { runScaleBench } from './scale.js'
import { runCliBench } from './cli.js'
import { runSubnetBench } from './subnet.js'
import { runVpnRulesBench } from './vpn-rules.js'
import { runFleetBench } from './fleet.js'
import { runFleetDhtBench } from './fleet-dht.js'
import { runNatMatrixBench } from './nat-matrix.js'
import { runVpnProfileBench } from './vpn-profile.js'
import { runEmbeddedFleetBench } from './embedded-fleet.js'

const args = process.argv.slice(2)
const benches: Array<[string, () => Promise<unknown>]> = [
  ['messenger', runMessengerBench],
  ['swarm', async () => { await runSwarmBench(args) }],
  // npm run bench vpn -- --rounds 3
  ['vpn', async () => { await runVpnBench({ rounds: numberArg('--rounds') }) }],
  ['vpn-profile', async () => { await runVpnProfileBench() }],
  ['discovery', runDiscoveryBench],
  ['scale', async () => { await runScaleBench(args) }],
  ['cli', runCliBench],
  // npm run bench embedded-fleet -- --nodes 50
  ['embedded-fleet', async () => { await runEmbeddedFleetBench(args) }],
  ['subnet', runSubnetBench],
  ['vpn-rules', async () => { await runVpnRulesBench() }],
  ['fleet', async () => { await runFleetBench(args) }],
  ['fleet-dht', async () => { await runFleetDhtBench(args) }],
  // also the last part of `discovery`; alone: npm run bench nat-matrix -- --attempts 10
  ['nat-matrix', async () => { await runNatMatrixBench({ attempts: numberArg('--attempts') }) }]
]

function numberArg (flag: string): number | undefined {
  const at = args.indexOf(flag)
  return at >= 0 ? Number(args[at + 1]) : undefined
}

// names pick benchmarks; flags (--docs, --nodes N, ...) go to them
const only = args.filter((arg, i) => !arg.startsWith('--') && !(args[i - 1]?.startsWith('--') === true && !['--docs'].includes(args[i - 1]!)))
for (const [name, run] of benches) {
  if (only.length > 0 && !only.includes(name)) continue
  process.stdout.write(`\n== ${name} ==\n`)
  await run()
}
