import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { preSharedKey, generateKey } from '@libp2p/pnet'
import { TestNodes, eventually } from '../support/nodes.js'
import { DmsError } from '../../runtime/errors.js'
import type { ProtectorFactory } from '../../actors/libp2p-node.js'
import { componentsOf } from '../../runtime/node-components.js'

const nodes = new TestNodes()
test.after.each(async () => { await nodes.cleanup() })

function newKey (): Uint8Array {
  const psk = new Uint8Array(95)
  generateKey(psk)
  return psk
}
const protector = (psk: Uint8Array): ProtectorFactory => preSharedKey({ psk }) as unknown as ProtectorFactory

test('without a key the private host refuses to start, clearly, and the public host is untouched', async () => {
  const node = await nodes.started()
  try {
    await componentsOf(node).hosts.startPrivateHost()
    assert.unreachable('started without a key')
  } catch (err) {
    assert.instance(err, DmsError)
    assert.match((err as Error).message, /no private network key/)
  }
  assert.is(node.status().host.state, 'running')
})

test('a stopped node is not brought back by late work: starting its private host is refused, nothing listens', async () => {
  const node = await nodes.started()
  componentsOf(node).hosts.setPrivateProtector(() => protector(newKey()))
  await node.stop()
  try {
    await componentsOf(node).hosts.startPrivateHost()
    assert.unreachable('a stopped node started a private host')
  } catch (err) {
    assert.instance(err, DmsError)
    assert.is((err as DmsError).code, 'HOST_NOT_RUNNING')
  }
  assert.is(node.status().privateHost?.state, undefined)
  assert.is(componentsOf(node).hosts.libp2p('private'), undefined)
})

test('private hosts with the same key connect; the public host keeps running beside them', async () => {
  const psk = newKey()
  const a = await nodes.started()
  const b = await nodes.started()
  componentsOf(a).hosts.setPrivateProtector(() => protector(psk))
  componentsOf(b).hosts.setPrivateProtector(() => protector(psk))
  const aPrivate = await componentsOf(a).hosts.startPrivateHost()
  await componentsOf(b).hosts.startPrivateHost()
  assert.is(a.status().privateHost?.state, 'running')
  assert.ok(aPrivate[0]?.endsWith(a.peerId))
  assert.is.not(aPrivate[0], a.status().host.addresses[0], 'a different port from the public host')
  const privateHost = b.actor!.system.get('host.private')!
  const reply = new Promise<{ ok: boolean }>((resolve) => { const s = privateHost.on('host.reply', (r: { ok: boolean }) => { s.unsubscribe(); resolve(r) }) })
  privateHost.send({ type: 'host.dial', reqId: 'x', target: aPrivate[0]! })
  assert.ok((await reply).ok)
  const peerKeyAtA = `private:${b.peerId}`
  await eventually('a has a private peer actor for b', () => a.actor!.getSnapshot().context.peers[peerKeyAtA] != null)
  assert.is(a.status().host.state, 'running')
})

test('restart onto a new key keeps the port; a host still on the old key cannot connect', async () => {
  let psk = newKey()
  const owner = await nodes.started()
  const stale = await nodes.started()
  componentsOf(owner).hosts.setPrivateProtector(() => protector(psk))
  const oldKey = psk
  componentsOf(stale).hosts.setPrivateProtector(() => protector(oldKey))
  const before = await componentsOf(owner).hosts.startPrivateHost()
  await componentsOf(stale).hosts.startPrivateHost()
  psk = newKey()
  const after = await componentsOf(owner).hosts.restartPrivateHost()
  assert.equal(after, before, 'same addresses after a rekey restart')
  const staleHost = stale.actor!.system.get('host.private')!
  const reply = new Promise<{ ok: boolean, error?: string }>((resolve) => { const s = staleHost.on('host.reply', (r: { ok: boolean }) => { s.unsubscribe(); resolve(r) }) })
  staleHost.send({ type: 'host.dial', reqId: 'y', target: after[0]! })
  const result = await reply
  assert.not.ok(result.ok, 'old key must not connect')
  assert.match(result.error ?? '', /key mismatch|timed out|reset|handshake/i)
  await componentsOf(owner).hosts.stopPrivateHost()
  assert.is(owner.status().privateHost?.state, undefined)
  assert.is(owner.status().host.state, 'running')
})

test.run()
