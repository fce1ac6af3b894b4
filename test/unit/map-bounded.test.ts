import { test } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { mapBounded } from '../../actors/map-bounded.js'

test('results in order, never more than the limit in flight, every item once', async () => {
  await fc.assert(fc.asyncProperty(fc.array(fc.nat(5), { maxLength: 40 }), fc.integer({ min: 1, max: 8 }), async (delays, limit) => {
    let inFlight = 0
    let most = 0
    const seen: number[] = []
    const out = await mapBounded(delays, limit, async (delay, index) => {
      inFlight++
      most = Math.max(most, inFlight)
      seen.push(index)
      await new Promise((resolve) => setTimeout(resolve, delay))
      inFlight--
      return index * 2
    })
    assert.equal(out, delays.map((_, i) => i * 2))
    assert.equal([...seen].sort((a, b) => a - b), delays.map((_, i) => i))
    assert.ok(most <= limit, `${most} in flight with a limit of ${limit}`)
  }), { numRuns: 60 })
})

test('a failing call rejects the map', async () => {
  let error = ''
  try { await mapBounded([1, 2, 3], 2, async (n) => { if (n === 2) throw new Error('two'); return n }) } catch (err) { error = (err as Error).message }
  assert.is(error, 'two')
})

test.run()
