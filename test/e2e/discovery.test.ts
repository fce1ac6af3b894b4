import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { TestNodes, eventually, passes } from '../support/nodes.js'
import type { DmsNode } from '../../runtime/node.js'
import type { DiscoveryInit } from '../../runtime/discovery/config.js'
import { DmsError } from '../../runtime/errors.js'
import { createSwarm } from '../../runtime/swarm/swarm-service.js'
import type { Swarm } from '../../runtime/swarm/swarm-service.js'
import { componentsOf } from '../../runtime/node-components.js'

const nodes = new TestNodes()
test.after.each(async () => { await nodes.cleanup() })

const dht: DiscoveryInit = { dht: true }

/** A bootstrap node and `count` nodes that know only it. */
async function network (count: number, discovery: DiscoveryInit, bootstrapDiscovery: DiscoveryInit = discovery): Promise<{ hub: DmsNode, members: DmsNode[] }> {
  const hub = await nodes.started({ discovery: bootstrapDiscovery })
  const bootstrap = [hub.status().host.addresses[0]!]
  const members = await Promise.all(Array.from({ length: count }, async () => await nodes.started({ bootstrap, discovery })))
  for (const member of members) await eventually('member connected to the bootstrap node', () => hub.status().peers.some((p) => p.peerId === member.peerId && p.state !== 'disconnected'), 5000)
  return { hub, members }
}

test('DHT peer routing: dial(peerId) finds a peer known to nobody but the DHT, and status counts DHT finds', async () => {
  const { members: [a, b] } = await network(2, dht)
  assert.not.ok(a!.status().peers.some((p) => p.peerId === b!.peerId), 'a has not met b before the lookup')
  const dialled = await a!.dial(b!.peerId)
  assert.is(dialled.peerId, b!.peerId)
  assert.match(dialled.remoteAddr, /^\/ip4\/127\.0\.0\.1\/tcp\//)
  const status = a!.status().discovery.find((d) => d.network === 'public')!
  assert.ok(status.mechanisms.includes('dht /dms/kad/1.0.0'), status.mechanisms.join())
  assert.is(status.found.bootstrap, 1)
  assert.ok(status.found.dht >= 1, JSON.stringify(status.found))
  b!.handle('test.echo', (body) => body)
  assert.equal(await a!.request(b!.peerId, 'test.echo', { n: 7 }), { n: 7 }, 'the found peer answers typed messages')
})

test('without the DHT, dial(peerId) of an unknown peer fails with a clear error and the node keeps running', async () => {
  const { members: [a, b] } = await network(2, {})
  try {
    await a!.dial(b!.peerId)
    assert.unreachable('dial by id without any address or DHT must fail')
  } catch (err) {
    assert.instance(err, DmsError)
    assert.is((err as DmsError).code, 'DIAL_FAILED')
    assert.match((err as Error).message, /no (known )?address|no valid addresses|NoValidAddresses/i)
  }
  assert.is(a!.status().host.state, 'running')
  assert.equal(a!.status().discovery[0]!.mechanisms, [])
})

test('different DHT prefixes never mix: a /other node cannot find peers of a /dms network', async () => {
  const { hub, members: [b] } = await network(1, dht)
  const stranger = await nodes.started({ bootstrap: [hub.status().host.addresses[0]!], discovery: { dht: true, dhtPrefix: '/other' } })
  await eventually('stranger connected to the hub', () => stranger.status().peers.some((p) => p.peerId === hub.peerId && p.state !== 'disconnected'))
  try {
    await stranger.dial(b!.peerId)
    assert.unreachable('a node on another DHT must not find the peer')
  } catch (err) {
    assert.instance(err, DmsError)
  }
})

test('rendezvous: nodes advertising the same namespace find and dial each other; another namespace stays apart', async () => {
  const discovery: DiscoveryInit = { dht: true, rendezvous: 'dms-test', rendezvousIntervalMs: 1500 }
  const { members } = await network(3, discovery, dht)
  const outsider = await nodes.started({ bootstrap: [members[0]!.status().host.addresses[0]!], discovery: { dht: true, rendezvous: 'elsewhere', rendezvousIntervalMs: 1500 } })
  await passes(() => {
    for (const member of members) {
      const others = members.filter((m) => m !== member).map((m) => m.peerId)
      const connected = member.status().peers.filter((p) => p.state !== 'disconnected').map((p) => p.peerId)
      for (const other of others) assert.ok(connected.includes(other), `${member.peerId} connected to ${other}`)
      const rendezvous = member.status().discovery[0]!.rendezvous!
      assert.is(rendezvous.namespace, 'dms-test')
      assert.ok(member.status().discovery[0]!.found.rendezvous >= 2, JSON.stringify(member.status().discovery[0]))
    }
  }, 20_000)
  const outsiderFound = outsider.status().discovery[0]!
  assert.is(outsiderFound.found.rendezvous, 0, 'the other namespace found none of them')
})

test('inside a private swarm: the private host runs its own DHT; members find each other by id there, and its discovery actor reports it', async () => {
  const make = async (): Promise<{ node: DmsNode, swarm: Swarm }> => {
    const node = await nodes.create({ discovery: dht })
    const swarm = createSwarm(node, { rejoinWindowMs: 2000 })
    await node.start()
    return { node, swarm }
  }
  const owner = await make()
  const [alice, bob] = [await make(), await make()]
  await owner.swarm.create([alice.node.peerId, bob.node.peerId])
  for (const member of [alice, bob]) assert.is((await member.swarm.join(owner.node.status().host.addresses[0]!)).state, 'joined')
  // alice has never met bob on the private network: the private DHT (through the owner) finds him
  assert.not.ok(alice.node.status().peers.some((p) => p.network === 'private' && p.peerId === bob.node.peerId && p.state !== 'disconnected'))
  const dialled = await alice.node.dial(bob.node.peerId, { network: 'private' })
  assert.is(dialled.peerId, bob.node.peerId)
  const privateDiscovery = alice.node.status().discovery.find((d) => d.network === 'private')
  assert.ok(privateDiscovery != null, 'a discovery actor runs beside the private host')
  assert.ok(privateDiscovery.mechanisms.includes('dht /dms/kad/1.0.0'))
  assert.is(privateDiscovery.found.bootstrap, 0, 'public bootstrap peers are not used on the private host')
  // the private DHT answers only swarm members: its routing table holds only them
  const privateLibp2p = componentsOf(alice.node).hosts.libp2p('private')!
  const routingPeers = privateLibp2p.getPeers().map(String)
  for (const peer of routingPeers) assert.ok([owner.node.peerId, bob.node.peerId].includes(peer), `unexpected private peer ${peer}`)
})

test('a node alone with the DHT and a relay client (dms-net node --nat, no peers yet) starts, and its event loop stays free', async () => {
  // regression: queries that end at once with an empty routing table turned the relay client's
  // random walk of the DHT into a loop that never yielded, and the node never finished starting
  const node = await nodes.create({ discovery: { dht: true, relayClient: true, holePunching: true, autonat: true } })
  await node.start()
  let worstLagMs = 0
  for (let i = 0; i < 10; i++) {
    const asked = performance.now()
    await new Promise((resolve) => setTimeout(resolve, 50))
    worstLagMs = Math.max(worstLagMs, performance.now() - asked - 50)
  }
  assert.ok(worstLagMs < 500, `timers ran up to ${worstLagMs.toFixed(0)} ms late`)
  assert.is(node.status().host.state, 'running')
})

test('bad discovery config is refused with the field named', async () => {
  for (const [discovery, pattern] of [
    [{ dht: 'yes' }, /discovery\.dht must be true or false/],
    [{ rendezvous: 'x' }, /discovery\.rendezvous needs discovery\.dht/],
    [{ dht: true, dhtPrefix: 'dms' }, /discovery\.dhtPrefix must look like/],
    [{ relayLimits: { maxReservations: -1 } }, /discovery\.relayLimits\.maxReservations/],
    [{ announce: ['1.2.3.4:4001'] }, /discovery\.announce must be a list of multiaddrs/]
  ] as Array<[unknown, RegExp]>) {
    try {
      await nodes.create({ discovery: discovery as DiscoveryInit })
      assert.unreachable(JSON.stringify(discovery))
    } catch (err) {
      assert.instance(err, DmsError)
      assert.is((err as DmsError).code, 'CONFIG_INVALID')
      assert.match((err as Error).message, pattern)
    }
  }
})

test.run()
