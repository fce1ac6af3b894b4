import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { join } from 'node:path'
import { TestNodes } from '../support/nodes.js'
import { createSwarm } from '../../runtime/swarm/swarm-service.js'
import { readSwarmKeyFile } from '../../runtime/swarm/key-file.js'
import type { SanitizedInspectionEvent } from '../../runtime/inspect/sanitized-inspector.js'
import { componentsOf } from '../../runtime/node-components.js'

const nodes = new TestNodes()
test.after.each(async () => { await nodes.cleanup() })

test('a whole swarm story under inspection: machines are visible, no swarm key or identity key ever is', async () => {
  const stream: SanitizedInspectionEvent[] = []
  const inspect = (event: SanitizedInspectionEvent): void => { stream.push(event) }
  const owner = await nodes.create({ inspect })
  const member = await nodes.create({ inspect })
  const ownerSwarm = createSwarm(owner)
  const memberSwarm = createSwarm(member)
  await owner.start()
  await member.start()
  await ownerSwarm.create([member.peerId])
  await memberSwarm.join(owner.status().host.addresses[0]!)
  const firstKey = await readSwarmKeyFile(join(owner.config.dataDir, 'swarm', 'swarm.key'))
  await ownerSwarm.rotate()
  const secondKey = await readSwarmKeyFile(join(owner.config.dataDir, 'swarm', 'swarm.key'))

  const text = JSON.stringify(stream)
  const systemIds = new Set(stream.map((e) => e.systemId).filter(Boolean))
  for (const id of ['host.public', 'host.private', 'swarm.owner', 'swarm.member', `peer.public.${member.peerId}`]) assert.ok(systemIds.has(id), `${id} inspected`)
  assert.ok(stream.some((e) => e.systemId === 'swarm.member' && e.snapshot?.value === 'joined'))
  // one actor system per node: the features are children of the node's root, shown under it
  const actors = stream.filter((e) => e.type === '@xstate.actor')
  const roots = new Map(actors.filter((e) => e.systemId === 'node').map((e) => [e.actorId, e]))
  assert.is(roots.size, 2, 'one root per node')
  const parentOf = new Map(actors.map((e) => [e.actorId, e.parentId]))
  for (const id of ['swarm.owner', 'swarm.member', 'messenger.public', 'discovery.public']) {
    const actor = actors.find((e) => e.systemId === id)
    assert.ok(actor != null, `${id} is an actor`)
    assert.ok(roots.has(parentOf.get(actor!.actorId) ?? ''), `${id} is a child of its node's root`)
  }
  // every actor has a readable name: its systemId or the id its parent gave it, never a generated one
  for (const actor of actors) {
    const name = actor.systemId ?? actor.name
    assert.ok(name != null && !/^x:\d+$/.test(name) && !/^\d+\./.test(name) && !/:invocation\[/.test(name), `unnamed actor ${JSON.stringify(actor)}`)
  }
  for (const secret of [firstKey, secondKey, componentsOf(owner).identity.privateKey().raw, componentsOf(member).identity.privateKey().raw]) {
    for (const encoding of ['hex', 'base64', 'base64url'] as const) {
      const needle = Buffer.from(secret).toString(encoding).slice(0, 32)
      assert.not.ok(text.includes(needle), `secret (${encoding}) leaked into the inspector stream`)
    }
  }
  JSON.parse(text) // plain data all the way down
})

test.run()
