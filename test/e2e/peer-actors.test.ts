import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { TestNodes, eventually, recordEvents } from '../support/nodes.js'
import { peerSystemId } from '../../machines/node-ids.js'

const nodes = new TestNodes()
test.after.each(async () => { await nodes.cleanup() })

test('a peer actor is spawned on first sight and follows connect → identify → disconnect', async () => {
  const a = await nodes.started()
  const b = await nodes.started()
  const events = recordEvents(a)
  await b.dial(a.status().host.addresses[0]!)
  const peerOf = () => a.status().peers.find((p) => p.peerId === b.peerId)
  await eventually('b identified at a', () => peerOf()?.state === 'identified')
  assert.ok(a.actor!.system.get(peerSystemId('public', b.peerId)) != null, 'actor has a systemId')
  assert.is(peerOf()!.connections, 1)
  assert.ok(peerOf()!.protocols.includes('/ipfs/id/1.0.0'))
  const identified = events.find((e) => e.type === 'peer.identified')
  assert.ok(identified != null && identified.peerId === b.peerId)
  await b.stop()
  await eventually('b disconnected at a', () => peerOf()?.state === 'disconnected')
  assert.is(peerOf()!.connections, 0)
  assert.ok(events.some((e) => e.type === 'peer.disconnected' && e.peerId === b.peerId))
})

test('bootstrap peers are dialled at start and redialled with backoff after they drop', async () => {
  const a = await nodes.started({ listen: ['/ip4/127.0.0.1/tcp/0'] })
  const aAddress = a.status().host.addresses[0]!
  const port = aAddress.split('/')[4]!
  const b = await nodes.started({ bootstrap: [aAddress], redialBaseMs: 100, redialMaxMs: 400 })
  const events = recordEvents(b)
  const peerOf = () => b.status().peers.find((p) => p.peerId === a.peerId)
  await eventually('b connected to its bootstrap', () => peerOf()?.state === 'identified' || peerOf()?.state === 'connected')
  assert.ok(peerOf()!.bootstrap)
  await a.stop()
  await eventually('b saw the drop and retried', () => events.filter((e) => e.type === 'peer.redialing').length >= 2, 8000)
  assert.ok(peerOf()!.lastError != null, 'the failed redial is recorded')
  // the bootstrap comes back on the same address: b reconnects by itself
  const again = await nodes.started({ dataDir: a.config.dataDir, listen: [`/ip4/127.0.0.1/tcp/${port}`] })
  assert.is(again.peerId, a.peerId)
  await eventually('b reconnected', () => peerOf()?.state === 'identified' || peerOf()?.state === 'connected', 8000)
  assert.is(peerOf()!.lastError, undefined)
})

test('when a host restarts, its peer actors do not keep connections that died with the old host', async () => {
  const a = await nodes.started()
  const b = await nodes.started()
  await a.dial(b.status().host.addresses[0]!)
  const peerOf = () => b.status().peers.find((p) => p.peerId === a.peerId)
  await eventually('a identified at b', () => peerOf()?.state === 'identified')
  b.actor!.system.get('host.public')!.send({ type: 'host.restart' })
  await eventually('a disconnected at b, no connections', () => peerOf()?.state === 'disconnected' && peerOf()?.connections === 0)
})

test.run()
