// `npm run bench`: every benchmark, each against a baseline measured in the same run.
// Results are printed and written to docs/benchmarks.md. Benchmarks are not tests.
import '../runtime/polyfill.js'
import { runMessengerBench } from './messenger.js'
import { runSwarmBench } from './swarm.js'
import { runVpnBench } from './vpn.js'
import { runDiscoveryBench } from './discovery.js'

const benches: Array<[string, () => Promise<unknown>]> = [
  ['messenger', runMessengerBench],
  ['swarm', runSwarmBench],
  ['vpn', runVpnBench],
  ['discovery', runDiscoveryBench]
]

const only = process.argv.slice(2)
for (const [name, run] of benches) {
  if (only.length > 0 && !only.includes(name)) continue
  process.stdout.write(`\n== ${name} ==\n`)
  await run()
}
