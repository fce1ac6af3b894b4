import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { createActor, fromCallback } from 'xstate'
import { discoveryMachine } from '../../machines/discovery.js'
import type { DiscoveryEmitted, DiscoveryInput } from '../../machines/discovery.js'
import { isPrivateIp, pathOf, reachabilityOf, relayOf, relaysOf } from '../../machines/reachability-rules.js'

const R = '12D3KooWRelayRelayRelayRelayRelayRelayRelayRelayRelay'
const circuit = (relay: string): string => `/ip4/11.77.0.1/tcp/4001/p2p/${relay}/p2p-circuit/p2p/12D3KooWSelf`

test('private and public IPs', () => {
  for (const ip of ['10.1.2.3', '127.0.0.1', '192.168.1.1', '172.16.5.5', '100.64.0.1', '169.254.1.1', '203.0.113.9', '0.0.0.0', '::1', 'fe80::1', 'fd00::1', 'not-an-ip']) {
    assert.ok(isPrivateIp(ip), ip)
  }
  for (const ip of ['11.77.0.1', '8.8.8.8', '172.32.0.1', '192.169.0.1', '2001:db9::1']) assert.not.ok(isPrivateIp(ip), ip)
})

test('reachability from announced addresses: public needs a direct public address; relayed ones do not count', () => {
  assert.is(reachabilityOf([]), 'private')
  assert.is(reachabilityOf(['/ip4/10.0.0.2/tcp/4001/p2p/x', circuit(R)]), 'private')
  assert.is(reachabilityOf(['/ip4/10.0.0.2/tcp/4001', '/ip4/11.77.0.103/tcp/4001']), 'public')
  assert.is(reachabilityOf(['/dns4/node.example/tcp/4001']), 'public')
  assert.is(relayOf(circuit(R)), R)
  assert.is(relayOf('/ip4/10.0.0.2/tcp/4001'), undefined)
  assert.equal(relaysOf([circuit(R), circuit(R), '/ip4/10.0.0.2/tcp/1']), [R])
  assert.is(pathOf({ direct: 1, relayed: 1 }), 'direct')
  assert.is(pathOf({ direct: 0, relayed: 2 }), 'relayed')
  assert.is(pathOf({ direct: 0, relayed: 0 }), 'none')
})

function harness (input: Partial<DiscoveryInput> = {}) {
  const emitted: DiscoveryEmitted[] = []
  let rendezvousRuns = 0
  const actor = createActor(discoveryMachine.provide({
    actors: { watch: fromCallback(() => {}), rendezvous: fromCallback(() => { rendezvousRuns++ }) }
  }), { input: { network: 'public', relayClient: true, rendezvous: false, ...input } })
  actor.on('*', (event) => { emitted.push(event as DiscoveryEmitted) })
  actor.start()
  return { actor, emitted, rendezvousRuns: () => rendezvousRuns }
}

test('reservation gained, kept and lost: relay events once each, reachability changes announced once', () => {
  const { actor, emitted } = harness()
  assert.equal(actor.getSnapshot().value, { reachability: 'unknown', relay: 'searching', rendezvous: 'off', holePunch: 'off' })
  actor.send({ type: 'discovery.addresses', addresses: ['/ip4/10.0.0.2/tcp/4001'] })
  actor.send({ type: 'discovery.addresses', addresses: ['/ip4/10.0.0.2/tcp/4001', circuit(R)] })
  actor.send({ type: 'discovery.addresses', addresses: ['/ip4/10.0.0.2/tcp/4001', circuit(R)] })
  assert.equal(actor.getSnapshot().value, { reachability: 'private', relay: 'reserved', rendezvous: 'off', holePunch: 'off' })
  assert.equal(actor.getSnapshot().context.relays, [R])
  actor.send({ type: 'discovery.addresses', addresses: ['/ip4/10.0.0.2/tcp/4001'] })
  assert.equal(actor.getSnapshot().value, { reachability: 'private', relay: 'searching', rendezvous: 'off', holePunch: 'off' })
  assert.equal(emitted.map((e) => e.type), ['reachability.changed', 'relay.reserved', 'relay.lost'])
  actor.send({ type: 'discovery.addresses', addresses: ['/ip4/11.77.0.9/tcp/4001'] })
  assert.equal(emitted.at(-1), { type: 'reachability.changed', network: 'public', reachability: 'public', addresses: ['/ip4/11.77.0.9/tcp/4001'] })
})

test('a host that is no relay client stays relay off whatever it announces', () => {
  const { actor, emitted } = harness({ relayClient: false })
  actor.send({ type: 'discovery.addresses', addresses: [circuit(R)] })
  assert.is((actor.getSnapshot().value as { relay: string }).relay, 'off')
  assert.not.ok(emitted.some((e) => e.type === 'relay.reserved'))
})

test('paths: relayed, then direct is an upgrade; closing everything forgets the peer; finds are counted once per source', () => {
  const { actor, emitted } = harness()
  actor.send({ type: 'discovery.connections', peerId: 'P', direct: 0, relayed: 1 })
  assert.equal(actor.getSnapshot().context.paths, { P: 'relayed' })
  actor.send({ type: 'discovery.connections', peerId: 'P', direct: 1, relayed: 1, remoteAddr: '/ip4/11.77.0.103/tcp/4001' })
  actor.send({ type: 'discovery.connections', peerId: 'P', direct: 1, relayed: 0 })
  assert.equal(actor.getSnapshot().context.paths, { P: 'direct' })
  assert.equal(actor.getSnapshot().context.upgraded, ['P'])
  assert.equal(emitted.filter((e) => e.type.startsWith('connection.')), [
    { type: 'connection.relayed', network: 'public', peerId: 'P' },
    { type: 'connection.upgraded', network: 'public', peerId: 'P', remoteAddr: '/ip4/11.77.0.103/tcp/4001' }
  ])
  actor.send({ type: 'discovery.connections', peerId: 'P', direct: 0, relayed: 0 })
  assert.equal(actor.getSnapshot().context.paths, {})
  // a direct connection that never was relayed is no upgrade
  actor.send({ type: 'discovery.connections', peerId: 'Q', direct: 1, relayed: 0 })
  assert.equal(actor.getSnapshot().context.upgraded, ['P'])
  for (const source of ['dht', 'dht', 'mdns'] as const) actor.send({ type: 'discovery.found', source, peerId: 'Q' })
  assert.equal(actor.getSnapshot().context.found, { bootstrap: [], dht: ['Q'], mdns: ['Q'], rendezvous: [] })
})

test('rendezvous runs only when switched on, and records rounds and the last failure', () => {
  assert.is(harness().rendezvousRuns(), 0)
  const { actor, rendezvousRuns } = harness({ rendezvous: true })
  assert.is(rendezvousRuns(), 1)
  actor.send({ type: 'rendezvous.round', providers: 3, dialled: 2 })
  actor.send({ type: 'rendezvous.round', providers: 4, dialled: 1 })
  actor.send({ type: 'rendezvous.failed', error: 'find: no peers' })
  assert.equal(actor.getSnapshot().context.rendezvous, { rounds: 2, providers: 4, dialled: 3, lastError: 'find: no peers' })
})

test('hole punch outcomes: kept per peer, a failure emitted with its reason; the punch actor runs only when switched on', () => {
  let punchRuns = 0
  const make = (holePunch: boolean) => createActor(discoveryMachine.provide({
    actors: { watch: fromCallback(() => {}), rendezvous: fromCallback(() => {}), holePunch: fromCallback(() => { punchRuns++ }) }
  }), { input: { network: 'public', relayClient: true, rendezvous: false, holePunch } })
  const off = make(false).start()
  assert.is(punchRuns, 0)
  assert.is((off.getSnapshot().value as Record<string, string>).holePunch, 'off')
  const actor = make(true)
  const emitted: DiscoveryEmitted[] = []
  actor.on('*', (event) => { emitted.push(event as DiscoveryEmitted) })
  actor.start()
  assert.is(punchRuns, 1)
  actor.send({ type: 'discovery.punch', peerId: 'A', outcome: 'failed', detail: "the peer's NAT changes ports" })
  actor.send({ type: 'discovery.punch', peerId: 'B', outcome: 'direct', detail: '/ip4/11.77.0.102/tcp/5000/p2p/B' })
  assert.equal(actor.getSnapshot().context.punches, {
    A: { outcome: 'failed', detail: "the peer's NAT changes ports" },
    B: { outcome: 'direct', detail: '/ip4/11.77.0.102/tcp/5000/p2p/B' }
  })
  assert.equal(emitted, [{ type: 'holepunch.failed', network: 'public', peerId: 'A', reason: "the peer's NAT changes ports" }])
  actor.send({ type: 'discovery.punch', peerId: 'A', outcome: 'direct', detail: '/ip4/11.77.0.101/tcp/6000/p2p/A' })
  assert.is(actor.getSnapshot().context.punches.A!.outcome, 'direct')
})

test.run()
