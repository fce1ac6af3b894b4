// Frame size limits between peers: a sender refuses what it may not send; a receiver refuses a frame over
// its own limit without buffering it, and a peer configured with a larger limit costs only that frame.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { TestNodes, eventually, recordEvents } from '../support/nodes.js'
import { rawMessengerStream } from '../support/raw-streams.js'
import { encodeFrame } from '../../actors/wire/frames.js'

const nodes = new TestNodes()
test.after.each(async () => { await nodes.cleanup() })

test('an oversized message is refused by the sender, and by the receiver without buffering it', async () => {
  const [a, b] = await nodes.pair({ maxFrameBytes: 4096 })
  const errorsAtB = recordEvents(b)
  try { await a.send(b.peerId, 'big', new Uint8Array(5000)); assert.unreachable() } catch (err) {
    assert.is((err as { code: string }).code, 'OVERSIZED')
  }
  // past the largest limit any node may have (64 MiB), the declared length alone resets the stream
  const stream = await rawMessengerStream(a, b)
  stream.send(encodeFrame(new Uint8Array((64 << 20) + 1)).subarray(0, 4))
  await eventually('receiver reported it', () => errorsAtB.some((e) => e.type === 'messenger.error' && e.code === 'OVERSIZED'))
  await eventually('that stream is closed', () => stream.status !== 'open')
})

test('peers with different maxFrameBytes: a frame over the receiver\'s limit costs only itself; its sender hears OVERSIZED, requests in flight are answered', async () => {
  const a = await nodes.started() // 1 MiB
  const b = await nodes.started({ maxFrameBytes: 64 << 10 })
  await a.dial(b.status().host.addresses[0]!)
  const errorsAtA = recordEvents(a)
  const errorsAtB = recordEvents(b)
  const notes: number[] = []
  b.handle('note', (body) => { notes.push((body as string).length) })
  b.handle('slow', async () => { await new Promise((resolve) => setTimeout(resolve, 300)); return 'ok' })
  const slow = a.request(b.peerId, 'slow', {})
  await a.send(b.peerId, 'note', 'x'.repeat(100_000)) // over b's limit: dropped there
  try { await a.request(b.peerId, 'note', 'y'.repeat(200_000), { timeoutMs: 5000 }); assert.unreachable() } catch (err) {
    assert.equal([(err as { code?: string }).code, (err as { remoteCode?: string }).remoteCode], ['REMOTE_ERROR', 'OVERSIZED'])
    assert.match((err as Error).message, /200\d{3} bytes is over this node's limit of 65536/)
  }
  assert.is(await slow, 'ok', 'the request in flight on that stream was answered')
  await a.send(b.peerId, 'note', 'small')
  await eventually('the stream carries on', () => notes.includes(5))
  assert.equal(notes, [5], 'only the frame within the limit was handled')
  await eventually('the sender of the one-way message is told', () => errorsAtA.some((e) => e.type === 'messenger.error' && /over this node's limit/.test(String((e as { message?: string }).message))))
  assert.ok(errorsAtB.filter((e) => e.type === 'messenger.error' && e.code === 'OVERSIZED').length >= 2, 'the receiver counts both')
})

test.run()
