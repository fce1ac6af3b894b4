import { test } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { multiaddr } from '@multiformats/multiaddr'
import { PUNCH_ATTEMPTS, answerSynchronised, dialSynchronised } from '../../actors/discovery/punch-flows.js'
import type { PunchSession } from '../../actors/discovery/punch-flows.js'
import type { PunchMessage } from '../../actors/discovery/hole-punch-wire.js'
import type { DmsLibp2p } from '../../actors/libp2p-node.js'

// The synchronised punch (/dms/holepunch/1.1.0) against a peer that sends what it likes: a
// session whose frames come from a list and whose dials are all refused at the connection gater
// (so every dial is counted and fails at once). The sockets themselves are tested in namespaces
// (test/e2e/hole-punch-reset.test.ts).

function session (frames: PunchMessage[]): { session: PunchSession, sent: PunchMessage[], dials: () => number } {
  let dials = 0
  const libp2p = { components: { connectionGater: { denyDialMultiaddr: () => { dials++; return true } } } } as unknown as DmsLibp2p
  const sent: PunchMessage[] = []
  const queue = [...frames]
  return {
    sent,
    dials: () => dials,
    session: {
      libp2p,
      signal: AbortSignal.timeout(10_000),
      send: async (message) => { sent.push(message) },
      read: async () => {
        const next = queue.shift()
        if (next == null) throw new Error('Unexpected EOF')
        return next
      },
      to: multiaddr('/ip4/11.77.0.102/tcp/40000/p2p/12D3KooWBoDijAVeArETTUmQGkJeE2EJSGTWSf9MbGY2gcgRjPp9'),
      localPort: 40001,
      mine: '11.77.0.101:40001',
      theirs: '11.77.0.102:40000'
    }
  }
}

const frame = fc.constantFrom<PunchMessage>({ type: 'ping' }, { type: 'pong' }, { type: 'sync' }, { type: 'connect', address: '11.77.0.9:4000' }, { type: 'connect', reason: 'x' })

test('the responder answers at most 3 pings and dials at most 3 times, whatever the peer sends, and always ends with a reason', async () => {
  await fc.assert(fc.asyncProperty(fc.array(frame, { maxLength: 30 }), async (frames) => {
    const { session: s, sent, dials } = session(frames)
    const error = await answerSynchronised(s).then(() => undefined, (err: Error) => err)
    assert.ok(error != null, 'no connection can come of refused dials')
    assert.ok(sent.every((m) => m.type === 'pong'))
    assert.ok(sent.length <= PUNCH_ATTEMPTS, `${sent.length} pongs`)
    assert.ok(dials() <= PUNCH_ATTEMPTS, `${dials()} dials`)
    // a frame out of turn is a protocol error; otherwise the dials' own failure is the reason
    const outOfTurn = frames.some((m) => m.type === 'pong' || m.type === 'connect')
    if (outOfTurn) assert.match(error.message, /out of turn|no connection/)
  }), { numRuns: 300 })
})

test('the responder dials once per sync and says why the last dial failed when the initiator ends the stream', async () => {
  const { session: s, sent, dials } = session([{ type: 'ping' }, { type: 'sync' }, { type: 'ping' }, { type: 'sync' }])
  const error = await answerSynchronised(s).then(() => undefined, (err: Error) => err)
  assert.equal(sent, [{ type: 'pong' }, { type: 'pong' }])
  assert.is(dials(), 2)
  assert.match(error!.message, /^no connection to 11\.77\.0\.102:40000 from 11\.77\.0\.101:40001 \(.*connection gater/)
})

test('the initiator makes exactly 3 attempts (ping, sync, dial), backing off, and names each failure', async () => {
  const { session: s, sent, dials } = session(Array.from({ length: PUNCH_ATTEMPTS }, () => ({ type: 'pong' as const })))
  const started = Date.now()
  const error = await dialSynchronised(s).then(() => undefined, (err: Error) => err)
  assert.equal(sent.map((m) => m.type), ['ping', 'sync', 'ping', 'sync', 'ping', 'sync'])
  assert.is(dials(), PUNCH_ATTEMPTS)
  assert.ok(Date.now() - started >= 600, 'backoff 200 ms then 400 ms')
  assert.match(error!.message, /attempt 1: .*attempt 2: .*attempt 3: /)
})

test('the initiator stops at a peer that answers a ping with anything but pong', async () => {
  const { session: s, dials } = session([{ type: 'sync' }])
  await dialSynchronised(s).then(() => assert.unreachable('must fail'), (err: Error) => { assert.match(err.message, /sync where pong was due/) })
  assert.is(dials(), 0)
})

test.run()
