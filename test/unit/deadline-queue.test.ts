import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { DeadlineQueue } from '../../actors/messenger/deadline-queue.js'

test('expires due keys in order, skips settled ones, and returns the next live deadline', () => {
  const queue = new DeadlineQueue<string>()
  const live = new Map([['a', 10], ['b', 20], ['c', 30], ['d', 40]])
  for (const [key, deadline] of live) queue.push(key, deadline)
  live.delete('b')
  const expired: string[] = []
  const isLive = (key: string, deadline: number): boolean => live.get(key) === deadline
  const onExpired = (key: string): void => { expired.push(key); live.delete(key) }
  assert.is(queue.expire(5, isLive, onExpired), 10, 'nothing due yet')
  assert.is(queue.expire(25, isLive, onExpired), 30, 'a expired, b skipped')
  assert.equal(expired, ['a'])
  live.delete('c')
  assert.is(queue.expire(35, isLive, onExpired), 40, 'c was settled: not expired')
  assert.is(queue.expire(40, isLive, onExpired), Infinity)
  assert.equal(expired, ['a', 'd'])
  assert.is(queue.size, 0)
})

test('a key reused with another deadline is not taken for the old one', () => {
  const queue = new DeadlineQueue<string>()
  const live = new Map([['x', 50]])
  queue.push('x', 10)
  queue.push('x', 50)
  const expired: string[] = []
  const next = queue.expire(20, (key, deadline) => live.get(key) === deadline, (key) => { expired.push(key) })
  assert.equal(expired, [])
  assert.is(next, 50)
})

test('compaction keeps only live keys, in order', () => {
  const queue = new DeadlineQueue<number>()
  for (let i = 0; i < 10_000; i++) queue.push(i, i)
  queue.compact((key) => key % 1000 === 0)
  assert.is(queue.size, 10)
  const expired: number[] = []
  queue.expire(Infinity, () => true, (key) => { expired.push(key) })
  assert.equal(expired, [0, 1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 9000])
})

test.run()
