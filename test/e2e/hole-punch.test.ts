// test-needs: ip nft ping turnserver
// test-runner: solo
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { NatNetwork } from '../support/nat-network.js'
import type { NatNode } from '../support/nat-network.js'
import { passes } from '../support/nodes.js'
import { runCli } from '../support/cli.js'
import { run } from '../../runtime/netdev/run.js'
import type { DiscoveryStatus } from '../../runtime/events.js'
import type { VpnStatus } from '../../runtime/vpn/vpn-service.js'
import type { SwarmStatus } from '../../runtime/swarm/swarm-service.js'

// Two homes, each behind its own masquerading NAT, a relay and a STUN server (coturn) on the
// wan, every node a `dms-net node --nat --stun …` daemon in its namespace. Root only.
const isRoot = process.getuid?.() === 0

const discoveryOf = async (node: NatNode): Promise<DiscoveryStatus> => (await node.status()).discovery.find((d) => d.network === 'public')!

/** A typed request the other home answers with its own error (it leads no VPN): proof the message got there. */
async function requestReaches (from: NatNode, to: NatNode): Promise<void> {
  try {
    await from.call('request', { peer: to.peerId, type: 'vpn.sync', body: {} })
    assert.unreachable('the other home leads no VPN')
  } catch (err) {
    assert.match((err as Error).message, /this node does not lead a VPN/)
  }
}

test('two NATs that keep ports: a TCP hole punch makes the relayed connection direct; messages and the VPN use it', async () => {
  if (!isRoot) { assert.ok(true, 'needs root for namespaces: skipped'); return }
  const net = await NatNetwork.create([{}, {}], { stun: true, homeArgs: ['--nat', '--vpn-accept', 'any'] })
  try {
    const [a, b] = net.homes as [NatNode, NatNode]
    for (const home of [a, b]) await passes(async () => { assert.is((await discoveryOf(home)).relay, 'reserved') }, 20_000)

    // a knows b only by id: the DHT gives b's address through the relay, and b punches back
    // (so quickly that the dial may already answer with the punched connection)
    await a.call('dial', { target: b.peerId })
    const publicIps = net.topology.homes.map((h) => h.publicIp)
    // each side: the punch went direct to the other's public address, and no peer is reached through a relay.
    // (Listed as `upgraded` too only when the relayed connection was seen alone first: a punch that wins that
    // race never was relayed-only, so upgradedPeers is not asserted.)
    const [seenByA, seenByB] = await net.punchedBothWays(15_000)
    assert.equal([seenByA.relayedPeers, seenByB.relayedPeers], [[], []])
    const punchedAt = Date.now()
    const firstPunch = (await discoveryOf(a)).punched.find((p) => p.peerId === b.peerId)!.remoteAddr
    await requestReaches(a, b)
    await requestReaches(b, a)
    const text = await runCli(['status', '--data', a.dir])
    assert.match(text.stdout, new RegExp(`direct\\s+${b.peerId.slice(0, 10)}\\S*\\s+by\\s+TCP\\s+hole\\s+punch,\\s+/ip4/${publicIps[1]!.replaceAll('.', '\\.')}/tcp/`))

    // the VPN (public network) runs over the punched connection: no relay in the route, a real ping
    const started = await a.call<VpnStatus>('vpn.start', { peers: [b.peerId], subnet: '10.98.0.0/24' })
    assert.is(started.state, 'running', JSON.stringify(started))
    await passes(async () => { assert.is((await b.call<VpnStatus>('vpn.status')).state, 'running') }, 20_000)
    const target = started.routes.find((r) => r.peer === b.peerId)!.ip
    await passes(async () => {
      assert.match(await run('ip', ['netns', 'exec', net.topology.homes[0]!.ns.name, 'ping', '-c', '3', '-i', '0.2', '-W', '2', target]), /3 received/)
    }, 20_000)
    const route = (await a.call<VpnStatus>('vpn.status')).routes.find((r) => r.peer === b.peerId)!
    assert.is(route.via, undefined, 'the VPN goes direct')

    // the punched connection outlives the punch's own deadline (8 s): nothing of the dial is left to abort it
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, punchedAt + 10_000 - Date.now())))
    assert.match(await run('ip', ['netns', 'exec', net.topology.homes[0]!.ns.name, 'ping', '-c', '2', '-i', '0.2', '-W', '2', target]), /2 received/)
    assert.is((await discoveryOf(a)).punched.find((p) => p.peerId === b.peerId)?.remoteAddr, firstPunch, 'the same direct connection')
  } finally {
    await net.stop()
  }
})

test('a NAT that changes ports (symmetric): no direct path, the connection stays relayed, and status says why', async () => {
  if (!isRoot) { assert.ok(true, 'needs root for namespaces: skipped'); return }
  const net = await NatNetwork.create([{ symmetric: true }, {}], { stun: true })
  try {
    const [a, b] = net.homes as [NatNode, NatNode]
    for (const home of [a, b]) await passes(async () => { assert.is((await discoveryOf(home)).relay, 'reserved') }, 20_000)
    await a.call('dial', { target: b.peerId })
    // b (port-keeping NAT) is told a's NAT changes ports; a finds it out itself
    for (const [self, other, whose] of [[a, b, "this node's"], [b, a, "the peer's"]] as Array<[NatNode, NatNode, string]>) {
      await passes(async () => {
        const d = await discoveryOf(self)
        const why = d.noDirectPath.find((n) => n.peerId === other.peerId)
        assert.ok(why != null, JSON.stringify(d))
        assert.match(why.reason, new RegExp(`^${whose} NAT changes ports \\(a symmetric NAT`), why.reason)
        assert.equal(d.relayedPeers, [other.peerId])
        assert.equal(d.punched, [])
      }, 15_000)
    }
    // messages still cross, through the relay
    await requestReaches(a, b)
    const text = await runCli(['status', '--data', a.dir])
    assert.match(text.stdout, new RegExp(`relayed\\s+${b.peerId.slice(0, 10)}\\S*\\s+\\(this\\s+node.s\\s+NAT\\s+changes\\s+ports`))
  } finally {
    await net.stop()
  }
})

test('inside a private swarm: members behind NATs that keep ports punch through on the private host; the VPN goes direct', async () => {
  if (!isRoot) { assert.ok(true, 'needs root for namespaces: skipped'); return }
  const net = await NatNetwork.create([{}, {}], { startHomes: false, publicHosts: 1, homeArgs: [], stun: true })
  try {
    const owner = await net.startPublic(1, { args: [] })
    const homes = [await net.startHome(0), await net.startHome(1)] as [NatNode, NatNode]
    await owner.call<SwarmStatus>('swarm.create', { authorised: homes.map((h) => h.peerId) })
    for (const home of homes) assert.is((await home.call<SwarmStatus>('swarm.join', { owner: net.publicAddress(1, owner) })).state, 'joined')
    const started = await owner.call<VpnStatus>('vpn.start', { peers: homes.map((h) => h.peerId), subnet: '10.99.0.0/24' })
    await passes(async () => {
      for (const home of homes) assert.is((await home.call<VpnStatus>('vpn.status')).state, 'running')
    }, 20_000)
    // the VPN connects the members (through the owner first); the punch then makes it direct
    await passes(async () => {
      for (const [self, other] of [[homes[0], homes[1]], [homes[1], homes[0]]] as Array<[NatNode, NatNode]>) {
        const d = (await self.status()).discovery.find((x) => x.network === 'private')!
        assert.ok(d.punched.some((p) => p.peerId === other.peerId), JSON.stringify(d))
      }
    }, 20_000)
    const target = started.routes.find((r) => r.peer === homes[1].peerId)!.ip
    await passes(async () => {
      assert.match(await run('ip', ['netns', 'exec', net.topology.homes[0]!.ns.name, 'ping', '-c', '3', '-i', '0.2', '-W', '2', target]), /3 received/)
      const route = (await homes[0].call<VpnStatus>('vpn.status')).routes.find((r) => r.peer === homes[1].peerId)!
      assert.is(route.via, undefined, 'no relay in the route')
    }, 20_000)
  } finally {
    await net.stop()
  }
})

test.run()
