import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { runFleetSim } from '../../bench/support/fleet-sim.js'

// 200 of dms-network's libp2p nodes in this process on a simulated internet (40–250 ms round trips,
// 0.5 % loss, 10 Mbit/s links), 10 % of them leaving and rejoining while bid requests are published:
// every node that stayed gets every bid, and gossip does not flood (`npm run bench fleet` is the full one).
test('a simulated fleet of 200: bid requests reach every node that stayed, with a bounded number of duplicates, despite 10 % churn', async () => {
  const result = await runFleetSim({ nodes: 200, stack: 'dms', jobs: 8, publishEveryMs: 250, joinEveryMs: 10, settleMs: 4000 })
  const share = result.delivered / result.expected
  assert.ok(result.expected >= 8 * 150, `most nodes were expected to receive each bid (${result.expected})`)
  assert.ok(share >= 0.995, `delivered ${result.delivered} of ${result.expected}`)
  // gossipsub sends each message along its mesh (degree 6 here): each node sees a few copies, not one per peer it knows
  assert.ok(result.duplicatesPerDelivery <= 8, `${result.duplicatesPerDelivery.toFixed(2)} duplicates per delivery`)
  assert.ok(result.mesh.median >= 4, `mesh degree median ${result.mesh.median}`)
})

test.run()
