import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { setup } from 'xstate'
import { peerIdFromString } from '@libp2p/peer-id'
import { TestNodes, eventually, recordEvents } from '../support/nodes.js'
import type { DmsNode } from '../../runtime/node.js'
import { MESSENGER_PROTOCOL } from '../../runtime/wire/envelope.js'
import { encodeFrame } from '../../runtime/wire/frames.js'
import { encodeValue } from '../../runtime/wire/codec.js'
import type { DmsLibp2p } from '../../actors/libp2p-node.js'

const nodes = new TestNodes()
test.after.each(async () => { await nodes.cleanup() })

async function pair (init = {}): Promise<[DmsNode, DmsNode]> {
  const a = await nodes.started(init)
  const b = await nodes.started(init)
  await a.dial(b.status().host.addresses[0]!)
  return [a, b]
}

const libp2pOf = (node: DmsNode): DmsLibp2p => node.actor!.getSnapshot().context.libp2p.public!

/** Open a raw messenger stream from `from` to `to` and write bytes on it. */
async function rawStream (from: DmsNode, to: DmsNode) {
  return await libp2pOf(from).dialProtocol(peerIdFromString(to.peerId), MESSENGER_PROTOCOL)
}

const goodEnvelope = (from: string) => ({ v: 1, id: 'raw1', kind: 'msg', type: 'hello', from, ts: Date.now(), body: 'hi' })

test('messages both ways; from is the authenticated sender', async () => {
  const [a, b] = await pair()
  const atB: Array<{ body: unknown, from: string }> = []
  const atA: Array<{ body: unknown, from: string }> = []
  b.handle('greeting', (body, meta) => { atB.push({ body, from: meta.from }) })
  a.handle('greeting', (body, meta) => { atA.push({ body, from: meta.from }) })
  await a.send(b.peerId, 'greeting', { text: 'hello b', n: [1, 2, 3] })
  await b.send(a.peerId, 'greeting', 'hello a')
  await eventually('both received', () => atA.length === 1 && atB.length === 1)
  assert.equal(atB[0], { body: { text: 'hello b', n: [1, 2, 3] }, from: a.peerId })
  assert.equal(atA[0], { body: 'hello a', from: b.peerId })
})

test('a forged from field is replaced by the authenticated peer id', async () => {
  const [a, b] = await pair()
  const seen: string[] = []
  b.handle('hello', (_body, meta) => { seen.push(meta.from) })
  const stream = await rawStream(a, b)
  stream.send(encodeFrame(encodeValue(goodEnvelope('12D3KooWForgedForgedForgedForgedForgedForgedForged'))))
  await eventually('delivered', () => seen.length === 1)
  assert.is(seen[0], a.peerId)
})

test('request/response, handler errors, unknown types and timeouts', async () => {
  const [a, b] = await pair()
  b.handle('sum', (body) => (body as number[]).reduce((x, y) => x + y, 0))
  b.handle('fail', () => { throw new Error('disk full') })
  b.handle('slow', async () => await new Promise((resolve) => setTimeout(resolve, 2000)))
  assert.is(await a.request(b.peerId, 'sum', [1, 2, 39]), 42)
  try { await a.request(b.peerId, 'fail', null); assert.unreachable() } catch (err) { assert.match((err as Error).message, /HANDLER_FAILED: disk full/) }
  try { await a.request(b.peerId, 'nope', null); assert.unreachable() } catch (err) { assert.match((err as Error).message, /UNKNOWN_TYPE/) }
  const started = Date.now()
  try { await a.request(b.peerId, 'slow', null, { timeoutMs: 200 }); assert.unreachable() } catch (err) {
    assert.is((err as { code: string }).code, 'TIMEOUT')
    assert.ok(Date.now() - started < 1500)
  }
  assert.is(await a.request(b.peerId, 'sum', [1]), 1, 'still works afterwards')
})

test('messages and requests to self never touch the network', async () => {
  const a = await nodes.started()
  const got: unknown[] = []
  a.handle('note', (body) => { got.push(body) })
  a.handle('echo', (body) => body)
  await a.send(a.peerId, 'note', 'to myself')
  assert.is(await a.request(a.peerId, 'echo', 7), 7)
  await eventually('self message', () => got.length === 1)
  assert.is(a.messengerStats().public.framesOut, 0)
})

test('remote actor events: delivered when allowed, refused otherwise, sender authenticated', async () => {
  const [a, b] = await pair()
  const received: Array<{ type: string, from: string }> = []
  const logic = setup({}).createMachine({ on: { '*': { actions: ({ event }) => { received.push(event as { type: string, from: string }) } } } })
  await b.init()
  b.features.run('inbox', logic, { acceptsRemote: ['inbox.note'] })
  await a.sendToActor(b.peerId, 'inbox', { type: 'inbox.note', text: 'hi', from: 'someone-else' })
  assert.is(received.length, 1)
  assert.is(received[0]!.from, a.peerId)
  try { await a.sendToActor(b.peerId, 'inbox', { type: 'inbox.delete' }); assert.unreachable() } catch (err) {
    assert.match((err as Error).message, /ACTOR_REFUSED: actor inbox does not accept inbox.delete/)
  }
  try { await a.sendToActor(b.peerId, 'ghost', { type: 'x' }); assert.unreachable() } catch (err) {
    assert.match((err as Error).message, /no actor ghost/)
  }
  assert.is(received.length, 1)
})

test('an oversized message is refused by the sender, and by the receiver without buffering it', async () => {
  const [a, b] = await pair({ maxFrameBytes: 4096 })
  const errorsAtB = recordEvents(b)
  try { await a.send(b.peerId, 'big', new Uint8Array(5000)); assert.unreachable() } catch (err) {
    assert.is((err as { code: string }).code, 'OVERSIZED')
  }
  const stream = await rawStream(a, b)
  stream.send(encodeFrame(new Uint8Array(100_000)).subarray(0, 3))
  await eventually('receiver reported it', () => errorsAtB.some((e) => e.type === 'messenger.error' && e.code === 'OVERSIZED'))
  await eventually('that stream is closed', () => stream.status !== 'open')
})

for (const [name, bytes, code] of [
  ['garbage bytes', encodeFrame(new Uint8Array([0x82, 0xa1])), 'MALFORMED'],
  ['wrong field types', encodeFrame(encodeValue({ v: 1, id: 9, kind: 'msg', type: 'hello', from: 'x', ts: 1, body: null })), 'INVALID'],
  ['an unknown message type', encodeFrame(encodeValue({ ...goodEnvelope('x'), type: 'no.such.type' })), 'UNKNOWN_TYPE']
] as const) {
  test(`bad input (${name}): an error event, that stream closed, everything else keeps working`, async () => {
    const [a, b] = await pair()
    const events = recordEvents(b)
    const received: unknown[] = []
    b.handle('hello', (body) => { received.push(body) })
    await a.send(b.peerId, 'hello', 'before')
    const stream = await rawStream(a, b)
    stream.send(bytes)
    await eventually(`${code} reported`, () => events.some((e) => e.type === 'messenger.error' && e.code === code))
    await eventually('bad stream closed', () => stream.status !== 'open')
    await a.send(b.peerId, 'hello', 'after')
    await eventually('good messages still arrive', () => received.length === 2)
    assert.equal(received, ['before', 'after'])
    assert.is(b.status().host.state, 'running')
  })
}

test('a frame that stalls midway is cut off after the stall timeout', async () => {
  const [a, b] = await pair()
  const messenger = (b as unknown as { messengers: { public: { stallTimeoutMs: number } } }).messengers.public
  ;(messenger as { stallTimeoutMs: number }).stallTimeoutMs = 300
  const events = recordEvents(b)
  const stream = await rawStream(a, b)
  stream.send(encodeFrame(new Uint8Array(1000)).subarray(0, 100))
  await eventually('stall reported', () => events.some((e) => e.type === 'messenger.error' && e.code === 'STALLED'), 3000)
  await eventually('stalled stream closed', () => stream.status !== 'open')
})

test('sustained sending: every message arrives in order, memory stays bounded', async () => {
  const [a, b] = await pair()
  const count = 3000
  const payload = new Uint8Array(64 * 1024).fill(9)
  let next = 0
  let outOfOrder = 0
  b.handle('chunk', async (body) => {
    if ((body as { seq: number }).seq !== next) outOfOrder++
    next++
    if (next % 500 === 0) await new Promise((resolve) => setTimeout(resolve, 20)) // a receiver that is sometimes slow
  })
  const rssBefore = process.memoryUsage().rss
  let peakRss = rssBefore
  const started = Date.now()
  for (let seq = 0; seq < count; seq++) {
    await a.send(b.peerId, 'chunk', { seq, payload })
    if (seq % 200 === 0) peakRss = Math.max(peakRss, process.memoryUsage().rss)
  }
  await eventually('all received', () => next === count, 30_000)
  const seconds = (Date.now() - started) / 1000
  assert.is(outOfOrder, 0)
  const sentMb = count * payload.length / 1e6
  assert.ok(peakRss - rssBefore < 150e6, `rss grew ${(peakRss - rssBefore) / 1e6} MB for ${sentMb} MB sent`)
  console.log(`    sustained: ${sentMb.toFixed(0)} MB in ${seconds.toFixed(1)} s`)
})

test('three nodes: a published job reaches the others, typed and validated', async () => {
  const a = await nodes.started()
  const b = await nodes.started()
  const c = await nodes.started()
  await b.dial(a.status().host.addresses[0]!)
  await c.dial(a.status().host.addresses[0]!)
  await c.dial(b.status().host.addresses[0]!)
  const got: Array<{ node: string, jobId: string, from: string }> = []
  for (const [name, node] of [['b', b], ['c', c]] as const) node.onJob((bid, from) => { got.push({ node: name, jobId: bid.jobId, from }) })
  const bid = { jobId: 'job-1', resources: { cpuCores: 2, memoryMb: 1024 }, price: { max: 10, currency: 'DMS' }, deadline: Date.now() + 60_000 }
  // the gossipsub mesh forms within a heartbeat or two: publish until both have it, bounded
  const deadline = Date.now() + 15_000
  while (got.length < 2 && Date.now() < deadline) {
    await a.publishJob(bid).catch(() => {})
    await new Promise((resolve) => setTimeout(resolve, 500))
  }
  const nodesWithJob = new Set(got.map((g) => g.node))
  assert.equal([...nodesWithJob].sort(), ['b', 'c'])
  assert.ok(got.every((g) => g.jobId === 'job-1' && g.from === a.peerId))
  try { await a.publishJob({ ...bid, jobId: '' }); assert.unreachable() } catch (err) { assert.match((err as Error).message, /jobId/) }
})

test.run()
