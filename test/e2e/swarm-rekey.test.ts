import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { join } from 'node:path'
import { TestNodes, eventually } from '../support/nodes.js'
import { swarmNode } from '../support/swarm-nodes.js'
import type { DmsNode } from '../../runtime/node.js'
import { readSwarmKeyFile } from '../../runtime/swarm/key-file.js'
import { privateNetwork } from '../../actors/private-network/protector.js'
import { componentsOf } from '../../runtime/node-components.js'

const nodes = new TestNodes()
test.after.each(async () => { await nodes.cleanup() })


const privateConnectionIds = (node: DmsNode, peer: string): string[] =>
  (componentsOf(node).hosts.libp2p('private')?.getConnections() ?? []).filter((c) => c.remotePeer.toString() === peer).map((c) => c.id)

test('a rotation rekeys the running hosts in place: members keep their connections, a peer holding the leaked old key is cut and cannot come back', async () => {
  const owner = await swarmNode(nodes)
  const alice = await swarmNode(nodes)
  const bob = await swarmNode(nodes)
  const created = await owner.swarm.create([alice.node.peerId, bob.node.peerId])
  for (const member of [alice, bob]) await member.swarm.join(owner.node.status().host.addresses[0]!)
  await eventually('both members connected', () => [alice, bob].every((m) => owner.swarm.status().privatePeers.includes(m.node.peerId)))

  // an intruder that got hold of the current key (leaked swarm.key) connects on it
  const leaked = await readSwarmKeyFile(join(owner.node.config.dataDir, 'swarm', 'swarm.key'))
  const intruder = await nodes.started()
  componentsOf(intruder).hosts.setPrivateProtector(() => privateNetwork({ key: leaked }))
  await componentsOf(intruder).hosts.startPrivateHost()
  await intruder.dial(created.bootstrap[0]!, { network: 'private' })
  await eventually('the leaked key opens a connection', () => owner.swarm.status().privatePeers.includes(intruder.peerId))

  const before = new Map([alice, bob].map((m) => [m.node.peerId, privateConnectionIds(owner.node, m.node.peerId)]))
  const rotated = await owner.swarm.rotate()
  assert.equal(rotated.bootstrap, created.bootstrap, 'the same listener: nobody needs new addresses')
  await eventually('members hold the new key', () => [alice, bob].every((m) => m.swarm.status().fingerprint === rotated.fingerprint && m.swarm.status().state === 'joined'), 8000)
  await eventually('the intruder is cut', () => !owner.swarm.status().privatePeers.includes(intruder.peerId), 5000)
  for (const member of [alice, bob]) {
    const ids = privateConnectionIds(owner.node, member.node.peerId)
    assert.ok(ids.length > 0 && ids.every((id) => before.get(member.node.peerId)!.includes(id)), `${member.node.peerId} kept its connection (${ids.join(',')})`)
  }
  let refused = ''
  try { await intruder.dial(created.bootstrap[0]!, { network: 'private' }) } catch (err) { refused = (err as Error).message }
  assert.ok(refused !== '', 'the old key no longer connects')
  assert.not.ok(owner.swarm.status().privatePeers.includes(intruder.peerId))

  // a member that joins after the rotation connects on the new key only
  const late = await nodes.started()
  componentsOf(late).hosts.setPrivateProtector(() => privateNetwork({ key: leaked }))
  await componentsOf(late).hosts.startPrivateHost()
  let lateRefused = ''
  try { await late.dial(rotated.bootstrap[0]!, { network: 'private' }) } catch (err) { lateRefused = (err as Error).message }
  assert.ok(lateRefused !== '', 'a fresh dial with the old key is refused')

  // revocation: bob's kept connection goes too, alice's stays
  const aliceIds = privateConnectionIds(owner.node, alice.node.peerId)
  await owner.swarm.revoke(bob.node.peerId)
  await eventually('bob is cut', () => !owner.swarm.status().privatePeers.includes(bob.node.peerId), 5000)
  assert.equal(privateConnectionIds(owner.node, alice.node.peerId), aliceIds, 'alice kept her connection through the revocation')
})


test('rotations back to back: every member takes every notice (its owner is not rate-limited) and ends on the newest key', async () => {
  const owner = await swarmNode(nodes)
  const members = [await swarmNode(nodes), await swarmNode(nodes)]
  await owner.swarm.create(members.map((m) => m.node.peerId))
  for (const member of members) await member.swarm.join(owner.node.status().host.addresses[0]!)
  let last = owner.swarm.status()
  // more notices within a second than the per-peer limit (burst 6) lets a stranger send
  for (let i = 0; i < 9; i++) last = await owner.swarm.rotate()
  await eventually('members on the newest key', () => members.every((m) => m.swarm.status().state === 'joined' && m.swarm.status().fingerprint === last.fingerprint), 8000)
  const audit = await owner.swarm.auditLog()
  assert.is(audit.filter((r) => r.action === 'notify-failed').length, 0, audit.map((r) => r.action).join(','))
  assert.is(audit.filter((r) => r.action === 'grant').length, 2, 'nobody had to ask again')
  for (const member of members) assert.is(member.swarm.status().keyExchange.rateLimited, 0)
})

test.run()
