// `npm run test:model`: every shortest path through the swarm world model (one to each of its
// states), then the walks that take every transition, each against fresh real nodes.
// (Simple paths of this model number in the thousands; shortest paths reach every state and the
// walks take every transition, each step checked against the real nodes.)
import { coveringTours, pathName, worldModel } from './swarm-world.js'
import { runPath } from './swarm-world-runner.js'

const paths = [...worldModel.getShortestPaths(), ...coveringTours()]
const started = Date.now()
let passed = 0
let failed = 0
for (const [index, path] of paths.entries()) {
  const began = Date.now()
  try {
    await runPath(path)
    passed++
    process.stdout.write(`ok   ${index + 1}/${paths.length} ${pathName(path)} (${((Date.now() - began) / 1000).toFixed(1)} s)\n`)
  } catch (err) {
    failed++
    process.stdout.write(`FAIL ${index + 1}/${paths.length} ${pathName(path)}\n     ${(err as Error).message}\n`)
  }
}
process.stdout.write(`ran ${paths.length} model paths in ${((Date.now() - started) / 1000).toFixed(0)} s\n${passed} passed, ${failed} failed\n`)
process.exit(failed > 0 ? 1 : 0)
