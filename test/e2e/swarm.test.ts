import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createServer } from 'node:net'
import type { AddressInfo, Socket } from 'node:net'
import { TestNodes, eventually } from '../support/nodes.js'
import { swarmNode } from '../support/swarm-nodes.js'
import type { DmsNode } from '../../runtime/node.js'
import { readSwarmKeyFile } from '../../runtime/swarm/key-file.js'

const nodes = new TestNodes()
test.after.each(async () => { await nodes.cleanup() })


const canReachPrivately = async (from: DmsNode, to: string[]): Promise<boolean> => {
  try { await from.dial(to[0]!, { network: 'private' }); return true } catch { return false }
}

test('create → members join → outsider denied → rotate → revoke cuts the revoked peer off; the audit log has it all, no key', async () => {
  const owner = await swarmNode(nodes)
  const alice = await swarmNode(nodes)
  const bob = await swarmNode(nodes)
  const outsider = await swarmNode(nodes)
  const ownerAddress = owner.node.status().host.addresses[0]!

  const created = await owner.swarm.create([alice.node.peerId, bob.node.peerId])
  assert.is(created.state, 'active')
  assert.is(created.epoch, 1)
  assert.ok(created.fingerprint != null && created.bootstrap.length > 0)

  for (const member of [alice, bob]) {
    const status = await member.swarm.join(ownerAddress)
    assert.is(status.state, 'joined', status.lastError)
    assert.is(status.fingerprint, created.fingerprint)
    assert.is(member.node.status().host.state, 'stopped', 'a member leaves the public network by default')
  }
  await eventually('owner sees both members on the private network', () =>
    ['alice', 'bob'].every((_, i) => owner.swarm.status().privatePeers.includes([alice, bob][i]!.node.peerId)))

  // an outsider asks and is denied; it gets nothing and cannot get in
  let denied = ''
  try { await outsider.swarm.join(ownerAddress) } catch (err) { denied = (err as Error).message }
  assert.match(denied, /denied: not-authorised/)
  assert.is(outsider.swarm.status().state, 'idle')
  assert.is(outsider.node.status().privateHost?.state, undefined)
  assert.not.ok(owner.swarm.status().privatePeers.includes(outsider.node.peerId))

  // rotation: everyone authorised moves to the new key
  const rotated = await owner.swarm.rotate()
  assert.is(rotated.epoch, 2)
  assert.is.not(rotated.fingerprint, created.fingerprint)
  await eventually('members rejoined on the new key', () =>
    [alice, bob].every((m) => m.swarm.status().state === 'joined' && m.swarm.status().fingerprint === rotated.fingerprint), 8000)
  await eventually('owner connected to both again', () =>
    [alice, bob].every((m) => owner.swarm.status().privatePeers.includes(m.node.peerId)), 8000)

  // revoke bob: cut off at once, cannot reconnect, and is refused when it asks again
  const revoked = await owner.swarm.revoke(bob.node.peerId)
  assert.is(revoked.epoch, 3)
  assert.not.ok(revoked.authorised.includes(bob.node.peerId))
  await eventually('alice on the newest key', () => alice.swarm.status().fingerprint === revoked.fingerprint && alice.swarm.status().state === 'joined', 8000)
  await eventually('bob is no longer connected to the owner', () => !owner.swarm.status().privatePeers.includes(bob.node.peerId), 8000)
  assert.not.ok(await canReachPrivately(bob.node, revoked.bootstrap), 'the revoked key does not connect')
  await eventually('bob was told and left', () => bob.swarm.status().state === 'idle', 15000)
  assert.match(bob.swarm.status().lastError ?? '', /evicted by the owner/)
  // and when it asks again, it is denied
  let deniedAgain = ''
  try { await bob.swarm.join(ownerAddress) } catch (err) { deniedAgain = (err as Error).message }
  assert.match(deniedAgain, /not-authorised/)

  const audit = await owner.swarm.auditLog()
  const actions = audit.map((r) => `${r.action}${r.peer === outsider.node.peerId ? ':outsider' : ''}`)
  for (const expected of ['create', 'grant', 'rotate', 'revoke']) assert.ok(actions.includes(expected), `${expected} in ${actions.join(',')}`)
  assert.ok(actions.indexOf('revoke') < actions.lastIndexOf('rotate'), `the revocation is saved before its rotation: ${actions.join(',')}`)
  // strangers' denials are counted (and summarised on a timer), not written one by one
  assert.not.ok(actions.includes('deny:outsider'), actions.join(','))
  assert.ok((owner.swarm.status().keyExchange.denied['not-authorised'] ?? 0) >= 2, 'the outsider and the revoked bob were denied')
  const auditText = await readFile(join(owner.node.config.dataDir, 'swarm', 'audit.log'), 'utf8')
  const key = await readSwarmKeyFile(join(owner.node.config.dataDir, 'swarm', 'swarm.key'))
  assert.not.ok(auditText.includes(Buffer.from(key).toString('hex')), 'no key in the audit log')
  assert.not.ok(JSON.stringify(owner.swarm.status()).includes(Buffer.from(key).toString('hex')), 'no key in status')
})

test('owner and member come back into the swarm after a restart', async () => {
  const owner = await swarmNode(nodes)
  const alice = await swarmNode(nodes)
  await owner.swarm.create([alice.node.peerId])
  await alice.swarm.join(owner.node.status().host.addresses[0]!)
  const before = owner.swarm.status()
  const ownerDir = owner.node.config.dataDir
  const aliceDir = alice.node.config.dataDir
  await alice.node.stop()
  await owner.node.stop()

  const owner2 = await swarmNode(nodes, ownerDir)
  const restored = await owner2.swarm.restore()
  assert.is(restored.state, 'active')
  assert.is(restored.fingerprint, before.fingerprint)
  assert.equal(restored.bootstrap, before.bootstrap, 'same private address')
  const alice2 = await swarmNode(nodes, aliceDir)
  const back = await alice2.swarm.restore()
  assert.is(back.state, 'joined', back.lastError)
  await eventually('owner sees alice again', () => owner2.swarm.status().privatePeers.includes(alice2.node.peerId), 8000)
  // she came back on the saved key, with no new grant: the restarted owner counts her as a member all the same
  await eventually('owner counts alice as a member again', () => owner2.swarm.status().members.includes(alice2.node.peerId), 8000)
})

test('bad input: unknown peers, the owner itself, double create, leave when not a member, a join address without a peer id; dissolve', async () => {
  const owner = await swarmNode(nodes)
  try { await owner.swarm.create(['not-a-peer']); assert.unreachable() } catch (err) { assert.match((err as Error).message, /not a peer id/) }
  try { await owner.swarm.rotate(); assert.unreachable() } catch (err) { assert.match((err as Error).message, /does not own an active private swarm/) }
  try { await owner.swarm.leave(); assert.unreachable() } catch (err) { assert.match((err as Error).message, /not a member/) }
  try { await owner.swarm.join('/ip4/127.0.0.1/tcp/1'); assert.unreachable() } catch (err) { assert.match((err as Error).message, /no \/p2p/) }
  try { await owner.swarm.create([owner.node.peerId]); assert.unreachable() } catch (err) {
    assert.is((err as { code?: string }).code, 'BAD_PEER_ID')
    assert.match((err as Error).message, /is this node/)
  }
  await owner.swarm.create([])
  try { await owner.swarm.create([]); assert.unreachable() } catch (err) { assert.match((err as Error).message, /already/) }
  try { await owner.swarm.authorise(owner.node.peerId); assert.unreachable() } catch (err) { assert.is((err as { code?: string }).code, 'BAD_PEER_ID') }
  assert.equal(owner.swarm.status().authorised, [])
  // dissolved: in no swarm, as before it created one (and it may create another)
  const dissolved = await owner.swarm.dissolve()
  assert.equal([dissolved.role, dissolved.state, dissolved.epoch], ['none', 'idle', 0])
  assert.is((await owner.swarm.create([])).role, 'owner')
  assert.is(owner.node.status().host.state, 'running', 'the node survives')

  // leave while still asking for the key (the owner's address takes the connection and says nothing)
  const sockets: Socket[] = []
  const mute = createServer((socket) => { sockets.push(socket) })
  await new Promise<void>((resolve) => { mute.listen(0, '127.0.0.1', resolve) })
  const joiner = await swarmNode(nodes)
  const joining = joiner.swarm.join(`/ip4/127.0.0.1/tcp/${(mute.address() as AddressInfo).port}/p2p/${owner.node.peerId}`).then(() => 'joined', (err: Error) => err.message)
  try {
    await eventually('the joiner is asking for the key', () => joiner.swarm.status().state === 'requesting')
    try { await joiner.swarm.leave(); assert.unreachable() } catch (err) {
      assert.is((err as { code?: string }).code, 'SWARM_BUSY')
      assert.match((err as Error).message, /membership is requesting, not joined/)
    }
  } finally {
    for (const socket of sockets) socket.destroy()
    mute.close()
  }
  assert.is.not(await joining, 'joined')
  assert.is(joiner.swarm.status().state, 'idle', 'the failed join leaves the node free')

  // a join at a node that owns no swarm says so (not libp2p's protocol negotiation)
  const bystander = await swarmNode(nodes)
  try { await joiner.swarm.join(bystander.node.status().host.addresses[0]!); assert.unreachable() } catch (err) {
    assert.match((err as Error).message, new RegExp(`${bystander.node.peerId} owns no private swarm`))
  }
  assert.is(joiner.swarm.status().state, 'idle')
})

test.run()
