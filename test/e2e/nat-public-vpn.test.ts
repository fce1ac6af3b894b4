// test-needs: ip nft ping turnserver
// test-runner: solo
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { NatNetwork } from '../support/nat-network.js'
import type { NatNode } from '../support/nat-network.js'
import { passes } from '../support/nodes.js'
import { run } from '../../runtime/netdev/run.js'
import type { VpnStatus } from '../../runtime/vpn/vpn-service.js'

// A public VPN (no private swarm) led by a node on the wan, with two members at home behind NATs that
// change ports (no hole punch can work): the leader relays its members without limits, as a swarm
// owner does, so they reach each other through it; nobody else may use that relay.
const isRoot = process.getuid?.() === 0

test('public VPN, both members behind symmetric NATs: they hold slots on the leader\'s relay, ping each other through it; a non-member cannot use it, nor a removed member', async () => {
  if (!isRoot) { assert.ok(true, 'needs root for namespaces: skipped'); return }
  // the homes run --nat --stun as docs/discovery.md says: they also hold slots on the public relay (with limits), which the VPN must not take
  const net = await NatNetwork.create([{ symmetric: true }, { symmetric: true }], { startHomes: false, publicHosts: 1, homeArgs: ['--nat'], stun: true })
  try {
    const leader = await net.startPublic(1, { args: [] })
    const leaderAddress = net.publicAddress(1, leader)
    const homes = [
      await net.startHome(0, ['--bootstrap', leaderAddress, '--vpn-accept', 'any']),
      await net.startHome(1, ['--bootstrap', leaderAddress, '--vpn-accept', 'any'])
    ] as [NatNode, NatNode]
    await passes(async () => {
      const peers = (await leader.status()).peers.map((p) => p.peerId)
      for (const home of homes) assert.ok(peers.includes(home.peerId), 'the homes dialled the leader')
    }, 20_000)

    // a node that leads no public VPN does not offer its relay at all (identify tells the homes its protocols)
    await passes(async () => {
      const seen = (await homes[0].status()).peers.find((p) => p.peerId === leader.peerId)
      assert.ok(seen != null && seen.protocols.includes('/ipfs/id/1.0.0'), 'identified')
      assert.not.ok(seen.protocols.includes('/libp2p/circuit/relay/0.2.0/hop'), JSON.stringify(seen.protocols))
    }, 20_000)

    const started = await leader.call<VpnStatus>('vpn.start', { peers: homes.map((h) => h.peerId), subnet: '10.98.0.0/24' })
    assert.is(started.state, 'running')
    await passes(async () => {
      for (const home of homes) assert.is((await home.call<VpnStatus>('vpn.status')).state, 'running')
    }, 20_000)

    // each member holds a slot on the leader's relay, and the leader publishes it in a new table version
    await passes(async () => {
      for (const home of homes) assert.ok((await home.status()).host.addresses.some((a) => a.includes(`/p2p/${leader.peerId}/p2p-circuit`)), `${home.peerId} reserved on the leader`)
      const table = await homes[0].call<VpnStatus>('vpn.status')
      assert.ok((table.version ?? 0) > started.version!, `a version after the reservations (${table.version})`)
    }, 20_000)

    // a real ping from one home's namespace to the other's VPN address, through the leader
    const target = started.routes.find((r) => r.peer === homes[1].peerId)!.ip
    await passes(async () => {
      const output = await run('ip', ['netns', 'exec', net.topology.homes[0]!.ns.name, 'ping', '-c', '3', '-i', '0.2', '-W', '2', target])
      assert.match(output, /3 received/)
    }, 30_000)
    const seen = await homes[0].call<VpnStatus>('vpn.status')
    const route = seen.routes.find((r) => r.peer === homes[1].peerId)!
    assert.is(route.via, leader.peerId, JSON.stringify(seen.routes))
    assert.is(route.path, 'relayed', 'the leader\'s relay has no limits: a path the VPN uses')
    assert.is(route.problem, undefined)

    // the public relay node is no member: the leader relays nothing for it
    let refused = ''
    try { await net.relay.call('dial', { target: `${leaderAddress}/p2p-circuit/p2p/${homes[0].peerId}` }) } catch (err) { refused = (err as Error).message }
    assert.ok(refused !== '', 'a circuit for a non-member is refused')

    // a removed member is hung up on and holds no slot any more: nothing of it is relayed
    await leader.call<VpnStatus>('vpn.remove', { peer: homes[1].peerId })
    await passes(async () => {
      assert.not.ok((await homes[1].status()).host.addresses.some((a) => a.includes(`/p2p/${leader.peerId}/p2p-circuit`)), 'its slot is gone')
      assert.is((await homes[1].call<VpnStatus>('vpn.status')).state, 'stopped')
    }, 20_000)
    await passes(async () => {
      const links = (await homes[0].status()).peers.find((p) => p.peerId === homes[1].peerId)?.links ?? []
      assert.not.ok(links.some((l) => l.address.includes(`/p2p/${leader.peerId}/p2p-circuit`)), `no circuit through the leader: ${JSON.stringify(links)}`)
    }, 20_000)
  } finally {
    await net.stop()
  }
})

test.run()
