import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { peerIdFromString } from '@libp2p/peer-id'
import { TestNodes, eventually } from '../support/nodes.js'
import { swarmNode } from '../support/swarm-nodes.js'
import type { DmsNode } from '../../runtime/node.js'
import { componentsOf } from '../../runtime/node-components.js'
import { readOne, writeOne } from '../../actors/swarm/one-shot.js'
import { SWARM_KEY_PROTOCOL, createLeaveNotice } from '../../runtime/swarm/key-exchange.js'
import type { LeaveNotice } from '../../runtime/swarm/key-exchange.js'

const nodes = new TestNodes()
test.after.each(async () => { await nodes.cleanup() })


/** Send one leave notice from `from` to the owner by hand, as a hostile peer's own code would: 'ack', or 'refused' by the owner. */
async function sendLeave (from: DmsNode, owner: string, notice: LeaveNotice): Promise<'ack' | 'refused'> {
  const { hosts } = componentsOf(from)
  const libp2p = hosts.libp2p('public') ?? hosts.libp2p('private')
  // a failed dial is the test's fault, not a refusal: it throws
  const stream = await libp2p!.dialProtocol(peerIdFromString(owner), SWARM_KEY_PROTOCOL, { signal: AbortSignal.timeout(5000) })
  try {
    writeOne(stream, notice)
    await readOne(stream, 5000)
    return 'ack'
  } catch {
    return 'refused'
  }
}

test('a member that leaves tells its owner: no longer counted, still authorised, audited, and it may join again', async () => {
  const owner = await swarmNode(nodes)
  const alice = await swarmNode(nodes)
  const bob = await swarmNode(nodes)
  const ownerAddress = owner.node.status().host.addresses[0]!
  await owner.swarm.create([alice.node.peerId, bob.node.peerId])
  for (const member of [alice, bob]) assert.is((await member.swarm.join(ownerAddress)).state, 'joined')
  assert.equal([...owner.swarm.status().members].sort(), [alice.node.peerId, bob.node.peerId].sort())

  const left = await alice.swarm.leave()
  assert.is(left.state, 'idle')
  // the owner took the notice before the member stopped its private host: at once, not eventually
  assert.equal(owner.swarm.status().members, [bob.node.peerId], 'alice is no longer a member; bob still is')
  assert.ok(owner.swarm.status().authorised.includes(alice.node.peerId), 'leaving is not being revoked')
  const audit = await owner.swarm.auditLog()
  assert.ok(audit.some((r) => r.action === 'leave' && r.peer === alice.node.peerId), JSON.stringify(audit))

  const back = await alice.swarm.join(ownerAddress)
  assert.is(back.state, 'joined')
  await eventually('alice counted again', () => owner.swarm.status().members.includes(alice.node.peerId))
})

test('hostile leave notices change nothing: for another member, unsigned by the sender, stale, for another owner, from a stranger', async () => {
  const owner = await swarmNode(nodes)
  const alice = await swarmNode(nodes)
  const stranger = await swarmNode(nodes)
  const ownerAddress = owner.node.status().host.addresses[0]!
  await owner.swarm.create([alice.node.peerId])
  assert.is((await alice.swarm.join(ownerAddress)).state, 'joined')
  const network = owner.node.config.networkName
  const strangerKey = componentsOf(stranger.node).identity.privateKey()
  const aliceKey = componentsOf(alice.node).identity.privateKey()
  const auditBefore = (await owner.swarm.auditLog()).length
  await stranger.node.dial(ownerAddress)

  const forged: Array<[string, DmsNode, LeaveNotice]> = [
    // the stranger names alice: the stream's authenticated peer is the stranger
    ['for another member', stranger.node, await createLeaveNotice(strangerKey, alice.node.peerId, owner.node.peerId, network, 1)],
    // alice's own notice, replayed by the stranger on its own stream
    ['replayed by another peer', stranger.node, await createLeaveNotice(aliceKey, alice.node.peerId, owner.node.peerId, network, 1)],
    // from the stranger about itself: signed, but it is no member
    ['from a stranger', stranger.node, await createLeaveNotice(strangerKey, stranger.node.peerId, owner.node.peerId, network, 1)],
    // alice's, but for another owner, another network, or an hour old
    ['for another owner', alice.node, await createLeaveNotice(aliceKey, alice.node.peerId, stranger.node.peerId, network, 1)],
    ['for another network', alice.node, await createLeaveNotice(aliceKey, alice.node.peerId, owner.node.peerId, 'elsewhere', 1)],
    ['stale', alice.node, await createLeaveNotice(aliceKey, alice.node.peerId, owner.node.peerId, network, 1, Date.now() - 3_600_000)],
    // alice's, with its signature broken
    ['badly signed', alice.node, { ...await createLeaveNotice(aliceKey, alice.node.peerId, owner.node.peerId, network, 1), signature: new Uint8Array(64) }]
  ]
  for (const [name, from, notice] of forged) {
    assert.is(await sendLeave(from, owner.node.peerId, notice), 'refused', name)
    assert.equal(owner.swarm.status().members, [alice.node.peerId], name)
  }
  assert.is((await owner.swarm.auditLog()).length, auditBefore, 'nothing refused reached the audit log')
  // the stranger, now authorised but not joined: its own leave notices are acknowledged, yet neither audited nor counted
  await owner.swarm.authorise(stranger.node.peerId)
  const auditAuthorised = (await owner.swarm.auditLog()).length
  // (two: the key exchange takes six streams a peer at once, and the stranger used three above)
  for (let i = 0; i < 2; i++) {
    assert.is(await sendLeave(stranger.node, owner.node.peerId, await createLeaveNotice(strangerKey, stranger.node.peerId, owner.node.peerId, network, 1)), 'ack')
  }
  assert.is((await owner.swarm.auditLog()).length, auditAuthorised, 'an authorised peer that never joined leaves no audit lines')
  assert.equal(owner.swarm.status().members, [alice.node.peerId])
  assert.is(alice.swarm.status().state, 'joined')
  assert.is(owner.swarm.status().state, 'active')
})

test.run()
