import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { createActor, setup, sendTo } from 'xstate'
import { peerMachine, redialDelay } from '../../machines/peer.js'
import type { PeerRequest } from '../../machines/peer.js'

/** A parent that records what the peer actor asks of it. */
function harness (input: { bootstrap?: boolean, forgetAfterMs?: number } = {}) {
  const requests: PeerRequest[] = []
  const parent = setup({ actors: { peer: peerMachine } }).createMachine({
    invoke: {
      id: 'peer',
      src: 'peer',
      input: {
        peerId: 'P', network: 'public', addresses: ['/ip4/127.0.0.1/tcp/1'], bootstrap: input.bootstrap ?? false,
        redialBaseMs: 20, redialMaxMs: 80, forgetAfterMs: input.forgetAfterMs ?? 60_000
      }
    },
    on: {
      '*': { actions: ({ event }) => { requests.push(event as PeerRequest) } },
      forward: { actions: sendTo('peer', ({ event }) => (event as unknown as { event: never }).event) }
    }
  })
  const actor = createActor(parent).start()
  const peer = () => actor.getSnapshot().children.peer!.getSnapshot() as ReturnType<ReturnType<typeof createActor<typeof peerMachine>>['getSnapshot']>
  const send = (event: object) => { actor.send({ type: 'forward', event } as never) }
  return { actor, peer, send, requests }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

test('connect → identify → disconnect, counting connections', () => {
  const { peer, send, actor } = harness()
  assert.is(peer().value, 'disconnected')
  send({ type: 'libp2p.connection.opened', peerId: 'P', connectionId: 'c1', remoteAddr: '/x', direction: 'inbound' })
  send({ type: 'libp2p.peer.connected', peerId: 'P' })
  assert.is(peer().value, 'connected')
  send({ type: 'libp2p.connection.opened', peerId: 'P', connectionId: 'c2', remoteAddr: '/x', direction: 'outbound' })
  send({ type: 'libp2p.connection.opened', peerId: 'P', connectionId: 'c2', remoteAddr: '/x', direction: 'outbound' })
  assert.is(peer().context.connections.length, 2)
  send({ type: 'libp2p.peer.identified', peerId: 'P', protocols: ['/dms/msg/1.0.0'], agentVersion: 'x', addresses: ['/ip4/127.0.0.1/tcp/9'] })
  assert.is(peer().value, 'identified')
  assert.equal(peer().context.protocols, ['/dms/msg/1.0.0'])
  assert.equal(peer().context.addresses, ['/ip4/127.0.0.1/tcp/9'])
  send({ type: 'libp2p.connection.closed', peerId: 'P', connectionId: 'c1', remoteAddr: '/x' })
  assert.is(peer().context.connections.length, 1)
  send({ type: 'libp2p.peer.disconnected', peerId: 'P' })
  assert.is(peer().value, 'disconnected')
  assert.is(peer().context.connections.length, 0)
  actor.stop()
})

test('identify before connect is ignored (no state jump from disconnected)', () => {
  const { peer, send, actor } = harness()
  send({ type: 'libp2p.peer.identified', peerId: 'P', protocols: ['/a'], addresses: [] })
  assert.is(peer().value, 'disconnected')
  actor.stop()
})

test('a bootstrap peer is redialled with exponential backoff, capped', async () => {
  const { peer, send, requests, actor } = harness({ bootstrap: true })
  await sleep(40)
  assert.is(peer().value, 'dialing')
  assert.is(requests.filter((r) => r.type === 'peer.dial-requested').length, 1)
  send({ type: 'peer.dial-failed', error: 'connection refused' })
  assert.is(peer().value, 'disconnected')
  assert.is(peer().context.lastError, 'connection refused')
  assert.is(peer().context.attempt, 1)
  await sleep(60)
  assert.is(peer().value, 'dialing')
  assert.is(requests.filter((r) => r.type === 'peer.dial-requested').length, 2)
  send({ type: 'libp2p.peer.connected', peerId: 'P' })
  assert.is(peer().context.attempt, 0)
  assert.is(peer().context.lastError, undefined)
  assert.is(redialDelay({ redialBaseMs: 20, redialMaxMs: 80, attempt: 0 }), 20)
  assert.is(redialDelay({ redialBaseMs: 20, redialMaxMs: 80, attempt: 2 }), 80)
  assert.is(redialDelay({ redialBaseMs: 20, redialMaxMs: 80, attempt: 50 }), 80)
  actor.stop()
})

test('a non-bootstrap peer disconnected long enough is forgotten', async () => {
  const { peer, requests, actor } = harness({ forgetAfterMs: 30 })
  await sleep(60)
  assert.is(peer().status, 'done')
  assert.ok(requests.some((r) => r.type === 'peer.forgotten' && r.peerId === 'P'))
  actor.stop()
})

test.run()
