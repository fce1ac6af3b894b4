// Generated interleavings against two real nodes on 127.0.0.1: concurrent requests, one-way sends,
// stream closes and resets from either side, unknown and malformed types, handlers that throw or
// take their time, connection drops and redials. After every run: each request settled in time with
// a value or a typed error, the pair still answers without disconnect(), at most 2 messenger streams
// between them, and no warning was printed.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { peerIdFromString } from '@libp2p/peer-id'
import { TestNodes, eventually } from '../support/nodes.js'
import type { DmsNode } from '../../runtime/node.js'
import { MessageError } from '../../actors/messenger/messenger.js'
import { MESSENGER_PROTOCOL } from '../../actors/wire/envelope.js'
import { componentsOf } from '../../runtime/node-components.js'

const nodes = new TestNodes()
const warnings: string[] = []
process.on('warning', (warning) => { warnings.push(`${warning.name}: ${warning.message}`) })
test.after(async () => { await nodes.cleanup() })

const REQUEST_TIMEOUT_MS = 2500
/** What a request may end with besides its value: each a typed code, none a hang. */
const TYPED = new Set(['REMOTE_ERROR', 'TIMEOUT', 'SEND_FAILED', 'INVALID', 'NOT_ATTACHED'])

function messengerStreams (from: DmsNode, to: DmsNode) {
  const libp2p = componentsOf(from).hosts.libp2p('public')!
  return libp2p.getConnections(peerIdFromString(to.peerId)).flatMap((connection) => connection.streams).filter((stream) => stream.protocol === MESSENGER_PROTOCOL)
}

type Op =
  | { kind: 'echo', body: number }
  | { kind: 'slow', ms: number }
  | { kind: 'throws' }
  | { kind: 'unknown' }
  | { kind: 'badType' }
  | { kind: 'bigint' }
  | { kind: 'send' }
  | { kind: 'close', side: 'a' | 'b' }
  | { kind: 'reset', side: 'a' | 'b' }
  | { kind: 'disconnect' }

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 1e6 }).map((body) => ({ kind: 'echo' as const, body })) },
  { weight: 2, arbitrary: fc.integer({ min: 1, max: 400 }).map((ms) => ({ kind: 'slow' as const, ms })) },
  { weight: 1, arbitrary: fc.constant({ kind: 'throws' as const }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'unknown' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'badType' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'bigint' as const }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'send' as const }) },
  { weight: 1, arbitrary: fc.constantFrom('a' as const, 'b' as const).map((side) => ({ kind: 'close' as const, side })) },
  { weight: 1, arbitrary: fc.constantFrom('a' as const, 'b' as const).map((side) => ({ kind: 'reset' as const, side })) },
  { weight: 1, arbitrary: fc.constant({ kind: 'disconnect' as const }) }
)

test('generated interleavings: every request settles, the pair never wedges, at most 2 streams, no warning', async () => {
  const a = await nodes.started()
  const b = await nodes.started()
  await a.dial(b.status().host.addresses[0]!)
  b.handle('echo', (body) => body)
  b.handle('slow', async (ms) => { await new Promise((resolve) => setTimeout(resolve, ms as number)); return ms })
  b.handle('throws', () => { throw new Error('handler bug') })
  b.handle('note', () => {})
  let maxStreams = 0
  const sample = setInterval(() => {
    maxStreams = Math.max(maxStreams, a.messengerStats().public.openChannels, b.messengerStats().public.openChannels)
  }, 5)
  const counts = { runs: 0, requests: 0, answered: 0, typedErrors: 0, closes: 0, resets: 0, drops: 0 }

  const run = async (op: Op): Promise<void> => {
    const started = performance.now()
    const settle = async (request: Promise<unknown>, expect?: unknown): Promise<void> => {
      counts.requests++
      try {
        const value = await request
        if (expect !== undefined) assert.equal(value, expect)
        counts.answered++
      } catch (err) {
        assert.ok(err instanceof MessageError && TYPED.has(err.code), `untyped failure: ${String(err)}`)
        counts.typedErrors++
      }
      assert.ok(performance.now() - started < REQUEST_TIMEOUT_MS + 1000, `settled after ${Math.round(performance.now() - started)} ms`)
    }
    const options = { timeoutMs: REQUEST_TIMEOUT_MS }
    switch (op.kind) {
      case 'echo': return await settle(a.request(b.peerId, 'echo', op.body, options), op.body)
      case 'slow': return await settle(a.request(b.peerId, 'slow', op.ms, options))
      case 'throws': return await settle(a.request(b.peerId, 'throws', null, options))
      case 'unknown': return await settle(a.request(b.peerId, 'no.such.type', null, options))
      case 'badType': return await settle(a.request(b.peerId, 'bad type!', null, options))
      case 'bigint': return await settle(a.request(b.peerId, 'echo', { x: 2n ** 70n }, options))
      case 'send': await a.send(b.peerId, Math.random() < 0.5 ? 'note' : 'unknown.note', 1).catch((err) => { assert.ok(err instanceof MessageError) }); return
      case 'close': counts.closes++; for (const stream of messengerStreams(op.side === 'a' ? a : b, op.side === 'a' ? b : a)) await stream.close().catch(() => {}); return
      case 'reset': counts.resets++; for (const stream of messengerStreams(op.side === 'a' ? a : b, op.side === 'a' ? b : a)) stream.abort(new Error('reset by the test')); return
      case 'disconnect': counts.drops++; await a.disconnect(b.peerId); return
    }
  }

  const deadline = Date.now() + 60_000
  try {
    await fc.assert(fc.asyncProperty(fc.array(fc.array(op, { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 8 }), async (batches) => {
      counts.runs++
      // each batch runs concurrently; batches one after the other
      for (const batch of batches) await Promise.all(batch.map(run))
      // whatever happened, the pair answers again on its own: no disconnect() needed. A request that
      // races a stream closing under it may fail with SEND_FAILED (its reply cannot come back on that
      // stream); the next one goes on a new stream and is answered.
      const stillTalking = await a.request(b.peerId, 'echo', 'still talking', { timeoutMs: 5000 }).catch(async (err: MessageError) => {
        assert.is(err.code, 'SEND_FAILED', err.message)
        return await a.request(b.peerId, 'echo', 'still talking', { timeoutMs: 5000 })
      })
      assert.is(stillTalking, 'still talking')
      assert.is(a.messengerStats().public.pendingRequests, 0)
    }), { numRuns: 25, verbose: 1, interruptAfterTimeLimit: Math.max(1000, deadline - Date.now()), markInterruptAsFailure: false })
  } finally {
    clearInterval(sample)
  }
  process.stdout.write(`    churn: ${JSON.stringify(counts)}, most streams at once ${maxStreams}\n`)
  assert.ok(counts.runs >= 5, `only ${counts.runs} runs within the time limit`)
  assert.ok(maxStreams <= 2, `${maxStreams} messenger streams open at once between one pair`)
  assert.equal(warnings, [])
})

test('version skew: after the peer closes the stream, bursts of requests reuse one new stream, none times out', async () => {
  const a = await nodes.started()
  const b = await nodes.started()
  await a.dial(b.status().host.addresses[0]!)
  b.handle('echo', (body) => body)
  assert.is(await a.request(b.peerId, 'echo', 0), 0)
  for (let round = 1; round <= 4; round++) {
    // B closes the stream (what an older version did after a type it did not know)
    for (const stream of messengerStreams(b, a)) await stream.close()
    await eventually('the stream closed on both sides', () => a.messengerStats().public.openChannels === 0 && b.messengerStats().public.openChannels === 0)
    const replies = await Promise.all([1, 2, 3, 4].map(async (n) => await a.request(b.peerId, 'echo', round * 10 + n, { timeoutMs: 3000 })))
    assert.equal(replies, [1, 2, 3, 4].map((n) => round * 10 + n))
    assert.ok(a.messengerStats().public.openChannels <= 1, `round ${round}: ${a.messengerStats().public.openChannels} streams at A`)
    assert.ok(b.messengerStats().public.openChannels <= 1, `round ${round}: ${b.messengerStats().public.openChannels} streams at B`)
  }
  // an unknown type is refused per message: the stream stays, and requests in flight beside it are answered
  const beside = [1, 2, 3, 4, 5].map(async (n) => await a.request(b.peerId, 'echo', n))
  await a.request(b.peerId, 'unknown.type', null).then(() => assert.unreachable(), (err: MessageError) => { assert.is(err.remoteCode, 'UNKNOWN_TYPE') })
  assert.equal(await Promise.all(beside), [1, 2, 3, 4, 5])
  assert.is(a.messengerStats().public.openChannels, 1)
})

test('types are checked on the sending side, and a message to self goes through the codec', async () => {
  const a = await nodes.started()
  for (const bad of ['bad type!', '', 'x'.repeat(129)]) {
    await a.request(a.peerId, bad, null).then(() => assert.unreachable(), (err: MessageError) => { assert.is(err.code, 'INVALID') })
    await a.send(a.peerId, bad, null).then(() => assert.unreachable(), (err: MessageError) => { assert.is(err.code, 'INVALID') })
    assert.throws(() => a.handle(bad, () => {}), (err: MessageError) => err.code === 'INVALID')
  }
  a.handle('self.echo', (body, meta) => ({ body, network: meta.network }))
  // the same types survive as between two nodes: a Map arrives as a plain object, undefined fields vanish
  assert.equal(await a.request(a.peerId, 'self.echo', { m: new Map([['k', 1]]), n: 1 }), { body: { m: { k: 1 }, n: 1 }, network: 'public' })
  await a.request(a.peerId, 'self.echo', { when: new Date() }).then(() => assert.unreachable(), (err: MessageError) => { assert.is(err.code, 'INVALID') })
  await a.request(a.peerId, 'self.echo', 'x'.repeat(2 << 20)).then(() => assert.unreachable(), (err: MessageError) => { assert.is(err.code, 'OVERSIZED') })
  a.handle('self.bigint', () => 2n ** 70n)
  await a.request(a.peerId, 'self.bigint', null).then(() => assert.unreachable(), (err: MessageError) => { assert.is(err.remoteCode, 'INVALID') })
})

test('requests and sends take an AbortSignal', async () => {
  const a = await nodes.started()
  const b = await nodes.started()
  await a.dial(b.status().host.addresses[0]!)
  b.handle('slow', async () => await new Promise((resolve) => setTimeout(() => { resolve('late') }, 1500)))
  const controller = new AbortController()
  const started = Date.now()
  const pending = a.request(b.peerId, 'slow', null, { signal: controller.signal })
  setTimeout(() => { controller.abort() }, 100)
  await pending.then(() => assert.unreachable(), (err: MessageError) => { assert.is(err.code, 'ABORTED') })
  assert.ok(Date.now() - started < 1000)
  assert.is(a.messengerStats().public.pendingRequests, 0)
  await a.send(b.peerId, 'slow', null, { signal: AbortSignal.abort() }).then(() => assert.unreachable(), (err: MessageError) => { assert.is(err.code, 'ABORTED') })
  assert.is(await a.request(b.peerId, 'slow', null), 'late')
})

test.run()
