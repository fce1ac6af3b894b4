import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { allTransitions, coveringTours, pathName, transitionsOf } from '../model/swarm-world.js'
import { runPath } from '../model/swarm-world-runner.js'

// Model-based: a few walks through the swarm world model that together take every
// transition of its chart, each against fresh real nodes (the owner a process that
// is SIGKILLed mid-rotation and mid-revoke). `npm run test:model` also runs every shortest path.
const tours = coveringTours()

test('the walks take every transition of the model', () => {
  const taken = new Set(tours.flatMap(transitionsOf))
  assert.equal([...allTransitions()].filter((t) => !taken.has(t)), [])
  const events = new Set(tours.flatMap((p) => p.steps.map((s) => s.event.type)))
  for (const type of ['CREATE', 'ALICE_JOINS', 'ALICE_LEAVES', 'OUTSIDER_ASKS', 'ROTATE_TWICE', 'BOB_OFFLINE', 'BOB_BACK', 'REVOKE_ALICE_WHILE_SHE_ASKS', 'KILL_OWNER_MID_ROTATION', 'KILL_OWNER_MID_REVOKE_OF_CAROL']) {
    assert.ok(events.has(type as never), `${type} is walked`)
  }
})

for (const tour of tours) {
  test(`walk: ${pathName(tour)}`, async () => { await runPath(tour) })
}

test.run()
