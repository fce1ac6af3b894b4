// test-needs: ip nft
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { NatNetwork } from '../support/nat-network.js'
import type { NatNode } from '../support/nat-network.js'
import { passes } from '../support/nodes.js'
import { runCli } from '../support/cli.js'
import type { DiscoveryStatus } from '../../runtime/events.js'

// Real NATs: a relay on a "wan" switch, homes behind their own nftables-masquerade
// routers, every node a `dms-net node` daemon in its namespace. Root only.
const isRoot = process.getuid?.() === 0

const discoveryOf = async (node: NatNode): Promise<DiscoveryStatus> => (await node.status()).discovery.find((d) => d.network === 'public')!

test('behind NAT: relay reservations, DHT lookup by peer id, a usable relayed connection, a clear status, relay lost and recovered', async () => {
  if (!isRoot) { assert.ok(true, 'needs root for namespaces: skipped'); return }
  const net = await NatNetwork.create([{}, {}])
  try {
    const [a, b] = net.homes as [NatNode, NatNode]
    for (const home of [a, b]) {
      await passes(async () => {
        const d = await discoveryOf(home)
        assert.is(d.relay, 'reserved', JSON.stringify(d))
        assert.equal(d.relays, [net.relay.peerId])
        assert.is(d.reachability, 'private')
      }, 20_000)
    }
    assert.is((await discoveryOf(net.relay)).reachability, 'public', 'the relay announces its public address')

    // a knows b only by id: the DHT on the relay gives b's relayed address
    const dialled = await a.call<{ peerId: string, remoteAddr: string }>('dial', { target: b.peerId })
    assert.is(dialled.peerId, b.peerId)
    assert.match(dialled.remoteAddr, new RegExp(`/p2p/${net.relay.peerId}/p2p-circuit/p2p/${b.peerId}$`))
    // typed messages cross the relayed connection: b's own handler answers (it leads no VPN)
    try {
      await a.call('request', { peer: b.peerId, type: 'vpn.sync', body: {} })
      assert.unreachable('b leads no VPN')
    } catch (err) {
      assert.match((err as Error).message, /this node does not lead a VPN/)
    }
    // two masquerading NATs leave no direct path: the connection stays relayed, and status says so
    await passes(async () => { assert.equal((await discoveryOf(a)).relayedPeers, [b.peerId]) }, 5000)
    const text = await runCli(['status', '--data', a.dir])
    assert.match(text.stdout, /reachability private, relay reserved on/)
    assert.match(text.stdout, new RegExp(`relayed\\s+${b.peerId.slice(0, 10)}\\S*\\s+\\(no\\s+direct\\s+connection`))

    // the relay goes away: the reservation is lost; it comes back: reserved again
    await net.relay.daemon.stop()
    await passes(async () => {
      const d = await discoveryOf(a)
      assert.is(d.relay, 'searching', JSON.stringify(d))
      assert.equal(d.relays, [])
    }, 15_000)
    await net.startRelay()
    for (const home of [a, b]) {
      await passes(async () => {
        const d = await discoveryOf(home)
        assert.is(d.relay, 'reserved', JSON.stringify(d))
        assert.equal(d.relays, [net.relay.peerId])
      }, 40_000)
    }
    // and b is reachable by id again, through the relay that came back
    const again = await a.call<{ remoteAddr: string }>('dial', { target: b.peerId })
    assert.match(again.remoteAddr, /p2p-circuit/)
  } finally {
    await net.stop()
  }
})

test('where the NAT allows it (a port forward), a relayed connection is upgraded to a direct one', async () => {
  if (!isRoot) { assert.ok(true, 'needs root for namespaces: skipped'); return }
  const net = await NatNetwork.create([{}, { forwardPort: 4001 }], { homeArgs: ['--relay-client', '--hole-punching'] })
  try {
    const [a, c] = net.homes as [NatNode, NatNode]
    await passes(async () => { assert.is((await discoveryOf(a)).relay, 'reserved') }, 20_000)
    assert.is((await discoveryOf(c)).reachability, 'public', 'c announces its forwarded port')
    // c reaches a through the relay; a, seeing c's public address, dials it directly (DCUtR's unilateral upgrade)
    const relayed = await c.call<{ remoteAddr: string }>('dial', { target: `${net.relayAddress}/p2p-circuit/p2p/${a.peerId}` })
    assert.match(relayed.remoteAddr, /p2p-circuit/)
    for (const [node, other] of [[a, c], [c, a]] as const) {
      await passes(async () => {
        const d = await discoveryOf(node)
        assert.ok(d.upgradedPeers.includes(other.peerId), JSON.stringify(d))
        assert.equal(d.relayedPeers, [])
      }, 15_000)
    }
    const peer = (await c.status()).peers.find((p) => p.peerId === a.peerId)
    assert.ok(peer != null && peer.state !== 'disconnected', 'still connected after the upgrade')
  } finally {
    await net.stop()
  }
})

test('AutoNAT: a node with a public address nobody announced is confirmed public by dial-backs from four networks; a NATed node stays private', async () => {
  if (!isRoot) { assert.ok(true, 'needs root for namespaces: skipped'); return }
  const net = await NatNetwork.create([{}], { publicHosts: 4 })
  try {
    // AutoNAT servers in 12/8, 13/8 and 14/8 besides the relay in 11/8: libp2p wants four networks to agree
    const servers = await Promise.all([1, 2, 3].map(async (i) => await net.startPublic(i, { args: ['--autonat'] })))
    const node = await net.startPublic(4, { announce: false, args: ['--autonat', ...servers.flatMap((s, i) => ['--bootstrap', net.publicAddress(i + 1, s)])] })
    const home = net.homes[0]!
    await passes(async () => {
      const d = await discoveryOf(node)
      assert.is(d.reachability, 'public', JSON.stringify(d))
      assert.ok((await node.status()).host.addresses.some((a) => a.startsWith(`/ip4/${net.topology.publicHosts[4]!.ip}/tcp/`)), 'the confirmed address is announced')
    }, 40_000)
    assert.match(node.daemon.output(), /reachability\.changed\s+network=public reachability=public/)
    const homeDiscovery = await discoveryOf(home)
    assert.is(homeDiscovery.reachability, 'private')
    assert.ok(homeDiscovery.mechanisms.includes('autonat'))
  } finally {
    await net.stop()
  }
})

test.run()
