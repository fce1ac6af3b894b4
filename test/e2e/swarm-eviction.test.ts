// A revoked member is told at once (a signed eviction notice from its owner), leaves within 2 s,
// hears swarm.evicted and says why in status; the member side hears joined, rotated and left too.
// A forged or replayed eviction moves nobody.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { peerIdFromString } from '@libp2p/peer-id'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { TestNodes, eventually, recordEvents } from '../support/nodes.js'
import { swarmNode } from '../support/swarm-nodes.js'
import { SWARM_KEY_PROTOCOL, createEvictionNotice } from '../../runtime/swarm/key-exchange.js'
import { writeOne } from '../../actors/swarm/one-shot.js'
import { componentsOf } from '../../runtime/node-components.js'

const nodes = new TestNodes()
test.after.each(async () => { await nodes.cleanup() })


test('revoke: the member is told, leaves within 2 s, hears swarm.evicted, and its status says why', async () => {
  const owner = await swarmNode(nodes)
  const alice = await swarmNode(nodes)
  const bob = await swarmNode(nodes)
  const aliceEvents = recordEvents(alice.node)
  const bobEvents = recordEvents(bob.node)
  await owner.swarm.create([alice.node.peerId, bob.node.peerId])
  const ownerAddress = owner.node.status().host.addresses[0]!
  for (const member of [alice, bob]) assert.is((await member.swarm.join(ownerAddress)).state, 'joined')
  assert.ok(aliceEvents.some((e) => e.type === 'swarm.joined' && e.owner === owner.node.peerId && e.epoch === 1))

  await owner.swarm.rotate()
  await eventually('alice hears the rotation', () => aliceEvents.some((e) => e.type === 'swarm.rotated' && e.epoch === 2), 8000)

  const started = Date.now()
  await owner.swarm.revoke(bob.node.peerId)
  await eventually('bob hears it was evicted', () => bobEvents.some((e) => e.type === 'swarm.evicted'), 2000)
  const noticedMs = Date.now() - started
  process.stdout.write(`    the revoked member noticed in ${noticedMs} ms\n`)
  await eventually('bob is back on the public network', () => bob.node.status().host.state === 'running' && bob.swarm.status().state === 'idle', 3000)
  assert.match(bob.swarm.status().lastError ?? '', /evicted by the owner/)
  assert.is(componentsOf(bob.node).hosts.libp2p('private'), undefined)
  // alice stays, on the key bob never saw
  await eventually('alice on the new key', () => alice.swarm.status().state === 'joined' && alice.swarm.status().epoch === owner.swarm.status().epoch, 8000)
  assert.not.ok(aliceEvents.some((e) => e.type === 'swarm.evicted'))
  const audit = await owner.swarm.auditLog()
  assert.ok(audit.some((entry) => entry.action === 'evict' && entry.peer === bob.node.peerId && entry.delivered === true), JSON.stringify(audit.slice(-4)))

  await alice.swarm.leave()
  assert.ok(aliceEvents.some((e) => e.type === 'swarm.left' && e.owner === owner.node.peerId))
})

test('an eviction signed by anyone but the owner, or for an earlier epoch, is refused; the member stays', async () => {
  const owner = await swarmNode(nodes)
  const alice = await swarmNode(nodes)
  await owner.swarm.create([alice.node.peerId])
  await alice.swarm.join(owner.node.status().host.addresses[0]!)
  await owner.swarm.rotate()
  await eventually('alice on epoch 2', () => alice.swarm.status().state === 'joined' && alice.swarm.status().epoch === 2, 8000)
  // alice dials the owner's restarted host: the owner reaches her over that connection
  await eventually('the owner connected to alice again', () => owner.swarm.status().privatePeers.includes(alice.node.peerId), 8000)
  const ownerLibp2p = componentsOf(owner.node).hosts.libp2p('private')!
  const send = async (notice: unknown): Promise<void> => {
    const stream = await ownerLibp2p.dialProtocol(peerIdFromString(alice.node.peerId), SWARM_KEY_PROTOCOL)
    writeOne(stream, notice)
    await new Promise((resolve) => setTimeout(resolve, 300))
  }
  const forger = await generateKeyPair('Ed25519')
  const network = owner.node.config.networkName
  // a stranger's key claiming to be the owner, then the owner's own notice for a past epoch
  await send(await createEvictionNotice(forger, owner.node.peerId, alice.node.peerId, network, 2))
  await send(await createEvictionNotice(componentsOf(owner.node).identity.privateKey(), owner.node.peerId, alice.node.peerId, network, 1))
  await send(await createEvictionNotice(componentsOf(owner.node).identity.privateKey(), owner.node.peerId, owner.node.peerId, network, 2))
  await new Promise((resolve) => setTimeout(resolve, 500))
  assert.is(alice.swarm.status().state, 'joined')
  assert.is(alice.swarm.status().lastError, undefined)
})

test.run()
