import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { peerIdFromString } from '@libp2p/peer-id'
import { TestNodes, eventually } from '../support/nodes.js'
import { libp2pOf } from '../support/raw-streams.js'
import { MESSENGER_PROTOCOL } from '../../actors/wire/envelope.js'

// When the messenger writes and when it gives up: coalesced bursts, lone frames at once, request deadlines.

const nodes = new TestNodes()
test.after.each(async () => { await nodes.cleanup() })

test('bursts and lone messages arrive whole and in order, and a burst leaves in few stream writes', async () => {
  const [a, b] = await nodes.pair()
  const got: number[] = []
  b.handle('seq', (body) => { got.push(body as number) })
  // a first burst opens the stream and warms the code: a cold send can take longer than the burst gap
  await Promise.all(Array.from({ length: 500 }, async (_, i) => { await a.send(b.peerId, 'seq', i) }))
  await eventually('first burst received', () => got.length === 500)
  // count the messenger stream's writes on a: a burst is corked into a few, a lone message is one
  const stream = libp2pOf(a).getConnections(peerIdFromString(b.peerId)).flatMap((c) => c.streams).find((s) => s.protocol === MESSENGER_PROTOCOL && s.direction === 'outbound')!
  let writes = 0
  const send = stream.send.bind(stream)
  stream.send = (data) => { writes++; return send(data) }
  const sends: Array<Promise<void>> = []
  for (let i = 500; i < 1000; i++) sends.push(a.send(b.peerId, 'seq', i))
  await Promise.all(sends)
  // one write for the first frame, one for the rest at the turn's end; a preempted process may split it a few times more
  assert.ok(writes <= 20, `a burst of 500 small messages took ${writes} stream writes`)
  await new Promise((resolve) => setTimeout(resolve, 20))
  writes = 0
  await a.send(b.peerId, 'seq', 1000)
  assert.is(writes, 1, 'a lone message is written at once')
  for (let i = 1001; i < 1100; i++) await a.send(b.peerId, 'seq', i)
  await eventually('all received', () => got.length === 1100)
  assert.equal(got, Array.from({ length: 1100 }, (_, i) => i))
})

test('one timer serves every request deadline: each fails on time and once, answered ones never', async () => {
  const [a, b] = await nodes.pair()
  b.handle('slow', async () => await new Promise((resolve) => setTimeout(resolve, 2000)))
  b.handle('sum', (body) => (body as number[]).reduce((x, y) => x + y, 0))
  assert.is(await a.request(b.peerId, 'sum', [1]), 1, 'the stream is open')
  // a shorter timeout sent after a longer one still fires first
  const sentAt = performance.now()
  const settledAt = (promise: Promise<unknown>): Promise<{ code?: string, ms: number }> => promise.then(
    () => ({ ms: performance.now() - sentAt }),
    (err: { code?: string }) => ({ code: err.code, ms: performance.now() - sentAt }))
  const long = settledAt(a.request(b.peerId, 'slow', null, { timeoutMs: 1200 }))
  const short = settledAt(a.request(b.peerId, 'slow', null, { timeoutMs: 300 }))
  const answered = a.request(b.peerId, 'sum', [2, 3], { timeoutMs: 1000 })
  const [l, s, n] = await Promise.all([long, short, answered])
  assert.is(n, 5, 'the answered request settled with its reply')
  assert.is(s.code, 'TIMEOUT')
  assert.is(l.code, 'TIMEOUT')
  assert.ok(s.ms >= 295 && s.ms < 1000, `short timeout after ${s.ms} ms`)
  assert.ok(l.ms >= 1195 && l.ms < 2000, `long timeout after ${l.ms} ms`)
  assert.is(a.messengerStats().public.pendingRequests, 0)
  for (const timeoutMs of [0, -5, Number.NaN, Infinity, 2 ** 31, '100' as unknown as number]) {
    try {
      await a.request(b.peerId, 'sum', [1], { timeoutMs })
      assert.unreachable(`timeoutMs ${String(timeoutMs)} was taken`)
    } catch (err) {
      assert.is((err as { code?: string }).code, 'INVALID', `timeoutMs ${String(timeoutMs)}`)
      assert.match((err as Error).message, /timeoutMs must be/)
    }
  }
  assert.is(await a.request(b.peerId, 'sum', [4], { timeoutMs: 2 ** 31 - 1 }), 4, 'the longest timeout Node allows')
})

test.run()
