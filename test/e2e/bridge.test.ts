import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { createActor, setup } from 'xstate'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { createLibp2pNode } from '../../actors/libp2p-node.js'
import type { DmsLibp2p } from '../../actors/libp2p-node.js'
import { libp2pBridge } from '../../actors/libp2p-bridge.js'
import type { BridgeEvent } from '../../actors/libp2p-bridge.js'
import { eventually } from '../support/nodes.js'

const created: DmsLibp2p[] = []
test.after.each(async () => { await Promise.allSettled(created.splice(0).map(async (n) => { await n.stop() })) })

async function libp2p (): Promise<DmsLibp2p> {
  const node = await createLibp2pNode({ privateKey: await generateKeyPair('Ed25519') })
  created.push(node)
  return node
}

/** A parent actor that records what the bridge sends back. */
function bridged (node: DmsLibp2p) {
  const received: BridgeEvent[] = []
  const actor = createActor(setup({ actors: { bridge: libp2pBridge } }).createMachine({
    invoke: { src: 'bridge', input: { libp2p: node } },
    on: { '*': { actions: ({ event }) => { received.push(event as BridgeEvent) } } }
  }))
  actor.subscribe({ error: () => {} })
  actor.start()
  return { actor, received }
}

test('libp2p events arrive as typed actor events, start and listening included', async () => {
  const a = await libp2p()
  const b = await libp2p()
  const { actor, received } = bridged(a)
  await a.start()
  await b.start()
  await b.dial(a.getMultiaddrs()[0]!)
  const types = () => received.map((e) => e.type)
  await eventually('identify seen', () => types().includes('libp2p.peer.identified'))
  for (const type of ['libp2p.started', 'libp2p.transport.listening', 'libp2p.peer.connected', 'libp2p.connection.opened']) {
    assert.ok(types().includes(type as BridgeEvent['type']), `${type} in ${types().join()}`)
  }
  const connected = received.find((e) => e.type === 'libp2p.peer.connected') as Extract<BridgeEvent, { type: 'libp2p.peer.connected' }>
  assert.is(connected.peerId, b.peerId.toString(), 'peer ids are strings')
  const opened = received.find((e) => e.type === 'libp2p.connection.opened') as Extract<BridgeEvent, { type: 'libp2p.connection.opened' }>
  assert.is(opened.direction, 'inbound')
  await b.stop()
  await eventually('disconnect seen', () => types().includes('libp2p.peer.disconnected') && types().includes('libp2p.connection.closed'))
  actor.stop()
})

test('every listener is removed when the bridge stops', async () => {
  const a = await libp2p()
  const { actor } = bridged(a)
  const count = (): number => ['peer:connect', 'peer:identify', 'connection:open', 'start', 'transport:listening']
    .reduce((sum, name) => sum + (a as unknown as { listenerCount: (n: string) => number }).listenerCount(name), 0)
  const withBridge = count()
  actor.stop()
  assert.ok(withBridge >= 5, `bridge listens (${withBridge})`)
  assert.is(count(), withBridge - 5)
})

test('an exception while translating becomes libp2p.bridge.failed, not a crash', async () => {
  const a = await libp2p()
  const { actor, received } = bridged(a)
  a.dispatchEvent(new CustomEvent('peer:connect', { detail: null }))
  a.dispatchEvent(new CustomEvent('connection:open', { detail: { remotePeer: null } }))
  const failures = received.filter((e) => e.type === 'libp2p.bridge.failed')
  assert.is(failures.length, 2)
  assert.is((failures[0] as Extract<BridgeEvent, { type: 'libp2p.bridge.failed' }>).libp2pEvent, 'peer:connect')
  assert.is(actor.getSnapshot().status, 'active')
  actor.stop()
})

test.run()
