// `npm run test:model`: every shortest path through the swarm world model, against real nodes.
// (Simple paths of this model number in the thousands: the shortest paths to every
// distinct state already take every transition, and each runs on fresh nodes.)
import { worldModel, runPath, pathName } from './swarm-world.js'

const paths = worldModel.getShortestPaths()
const started = Date.now()
let passed = 0
let failed = 0
for (const [index, path] of paths.entries()) {
  try {
    await runPath(path)
    passed++
    process.stdout.write(`ok   ${index + 1}/${paths.length} ${pathName(path)}\n`)
  } catch (err) {
    failed++
    process.stdout.write(`FAIL ${index + 1}/${paths.length} ${pathName(path)}\n     ${(err as Error).message}\n`)
  }
}
process.stdout.write(`ran ${paths.length} model paths in ${((Date.now() - started) / 1000).toFixed(0)} s\n${passed} passed, ${failed} failed\n`)
process.exit(failed > 0 ? 1 : 0)
