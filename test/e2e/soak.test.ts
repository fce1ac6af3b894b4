// test-runner: solo (an attacker process and three nodes use both cores)
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { runSoak, soakGoals } from '../support/soak.js'

// The 60-second version of `npm run soak`: every attack class at once against a
// victim that owns a private swarm, while an honest peer sends it requests and
// the swarm rotates its key.

test('a victim under every attack for 60 s keeps serving, keeps rotating, stays bounded, never crashes', async () => {
  const report = await runSoak({ durationMs: 60_000, quietMs: 10_000, rotateEveryMs: 15_000 })
  const goals = Object.fromEntries(soakGoals(report).map(([goal, met]) => [goal.split(' (')[0]!, { met, goal }]))
  assert.ok(Object.values(report.attacks).reduce((a, b) => a + b, 0) > 1000, `the attacker attacked: ${JSON.stringify(report.attacks)}`)
  assert.is(report.crashes, 0)
  assert.ok(goals['every rotation completes']!.met, goals['every rotation completes']!.goal)
  assert.ok(goals['audit log bounded']!.met, goals['audit log bounded']!.goal)
  assert.ok(goals['victim RSS ≤ baseline + 100 MiB']!.met, goals['victim RSS ≤ baseline + 100 MiB']!.goal)
  assert.ok(report.attacked.requests > 100, `the honest peer was served: ${report.attacked.requests} requests`)
  assert.ok(report.attacked.failed <= Math.max(3, report.attacked.requests * 0.01), `honest failures: ${report.attacked.failed} of ${report.attacked.requests + report.attacked.failed}`)
  // the round-trip goal (p99 ≤ 2× quiet) is reported by npm run soak; here, where another job may
  // share the cores, it must stay within the request timeout by a wide margin
  assert.ok(report.attacked.p99 < 1000, `honest p99 under attack ${report.attacked.p99.toFixed(1)} ms (quiet ${report.quiet.p99.toFixed(1)} ms)`)
})

test.run()
