import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { worldModel, runPath, coveringPaths, pathName } from '../model/swarm-world.js'

// Model-based: shortest paths through the swarm world model that together take every
// transition, each against fresh real nodes. `npm run test:model` runs all shortest paths.
const all = worldModel.getShortestPaths()
const paths = coveringPaths(all)

test('the chosen paths cover every transition the model has', () => {
  assert.ok(all.length > paths.length)
  assert.ok(paths.length >= 3, `${paths.length} paths`)
  const events = new Set(paths.flatMap((p) => p.steps.map((s) => s.event.type)))
  for (const type of ['CREATE', 'ALICE_JOINS', 'OUTSIDER_ASKS', 'ROTATE', 'REVOKE_ALICE', 'ALICE_LEAVES', 'RESTART_OWNER', 'RESTART_ALICE']) {
    assert.ok(events.has(type as never), `${type} is walked`)
  }
})

for (const path of paths) {
  test(`path: ${pathName(path)}`, async () => { await runPath(path) })
}

test.run()
