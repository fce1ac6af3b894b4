import { test } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { MAX_PROBES, MAX_PER_TARGET, MAX_PUNCHES_PER_PEER, PunchBudget } from '../../actors/discovery/punch-budget.js'

test('throwaway identities share one node-wide answer budget and one budget per target', () => {
  const budget = new PunchBudget()
  const now = 1_000_000
  let answered = 0
  let dialled = 0
  for (let i = 0; i < 25; i++) {
    const peer = `sybil-${i}`
    if (!budget.claimPeer(peer, now + i)) continue
    if (budget.claimProbe(now + i)) {
      answered++
      if (budget.claimTarget('203.0.113.9:22', now + i)) dialled++
    }
    budget.release(peer)
  }
  assert.is(answered, MAX_PROBES)
  assert.is(dialled, MAX_PER_TARGET)
  // a minute later the budgets are there again
  assert.ok(budget.claimProbe(now + 61_000))
  assert.ok(budget.claimTarget('203.0.113.9:22', now + 61_000))
})

test('generated: in any minute, at most the limits are granted, whatever the order of claims', () => {
  fc.assert(fc.property(fc.array(fc.record({ at: fc.integer({ min: 0, max: 180_000 }), peer: fc.integer({ min: 0, max: 40 }), target: fc.integer({ min: 0, max: 3 }) }), { maxLength: 300 }), (claims) => {
    const budget = new PunchBudget()
    const granted: Array<{ at: number, peer: number, target: number, answered: boolean, dialled: boolean }> = []
    for (const claim of [...claims].sort((x, y) => x.at - y.at)) {
      if (!budget.claimPeer(`p${claim.peer}`, claim.at)) continue
      const answered = budget.claimProbe(claim.at)
      const dialled = answered && budget.claimTarget(`t${claim.target}`, claim.at)
      granted.push({ ...claim, answered, dialled })
      budget.release(`p${claim.peer}`)
    }
    for (const { at } of granted) {
      const window = granted.filter((g) => g.at > at - 60_000 && g.at <= at)
      assert.ok(window.filter((g) => g.answered).length <= MAX_PROBES)
      for (let t = 0; t < 4; t++) assert.ok(window.filter((g) => g.dialled && g.target === t).length <= MAX_PER_TARGET)
      for (let p = 0; p <= 40; p++) assert.ok(window.filter((g) => g.peer === p).length <= MAX_PUNCHES_PER_PEER)
    }
  }), { numRuns: 300 })
})

test('one punch at a time per peer; a failure backs off, doubling, a success clears it', () => {
  const budget = new PunchBudget()
  assert.ok(budget.claimPeer('p', 0))
  assert.not.ok(budget.claimPeer('p', 1), 'one under way')
  budget.release('p')
  budget.outcome('p', true, 0)
  assert.ok(budget.backingOff('p', 29_999))
  assert.not.ok(budget.backingOff('p', 30_000))
  budget.outcome('p', true, 30_000)
  assert.ok(budget.backingOff('p', 89_999))
  budget.outcome('p', false, 90_000)
  assert.not.ok(budget.backingOff('p', 90_001))
})

test('entries of peers long gone are forgotten', () => {
  const budget = new PunchBudget()
  for (let i = 0; i < 1000; i++) {
    budget.claimPeer(`p${i}`, i * 1000)
    budget.release(`p${i}`)
  }
  assert.ok(budget.size < 400, `${budget.size} entries kept`)
})

test.run()
