// test-needs: ip nft ping turnserver
// test-runner: solo
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { NatNetwork } from '../support/nat-network.js'
import type { NatNode } from '../support/nat-network.js'
import { passes } from '../support/nodes.js'
import { run } from '../../runtime/netdev/run.js'
import type { SwarmStatus } from '../../runtime/swarm/swarm-service.js'
import type { VpnStatus } from '../../runtime/vpn/vpn-service.js'

// Two members of a private swarm, each at home behind its own NAT, and the owner on the wan: the
// owner is the swarm's own relay (no data or time limits for members), so the members reach each
// other through it, and the VPN runs over that relayed connection. Their NATs change ports (symmetric),
// so the hole punch they try finds no direct path: status says why, and the relay carries the VPN.
const isRoot = process.getuid?.() === 0

test('both members behind symmetric NATs: no direct path, they reach each other through the swarm owner\'s relay, and the VPN runs over it', async () => {
  if (!isRoot) { assert.ok(true, 'needs root for namespaces: skipped'); return }
  // no DHT: only the swarm's own relay can join the homes; hole punching on (with a STUN server)
  const net = await NatNetwork.create([{ symmetric: true }, { symmetric: true }], { startHomes: false, publicHosts: 1, homeArgs: [], stun: true })
  try {
    const owner = await net.startPublic(1, { args: [] })
    const homes = [await net.startHome(0), await net.startHome(1)] as [NatNode, NatNode]
    const ownerAddress = net.publicAddress(1, owner)

    const created = await owner.call<SwarmStatus>('swarm.create', { authorised: homes.map((h) => h.peerId) })
    assert.is(created.state, 'active')
    for (const home of homes) assert.is((await home.call<SwarmStatus>('swarm.join', { owner: ownerAddress })).state, 'joined')

    // each member holds a slot on the owner's relay, and its status says so
    await passes(async () => {
      for (const home of homes) assert.is((await home.call<SwarmStatus>('swarm.status')).relay, `relayed via ${owner.peerId}`)
    }, 20_000)

    const started = await owner.call<VpnStatus>('vpn.start', { peers: homes.map((h) => h.peerId), subnet: '10.99.0.0/24' })
    assert.is(started.state, 'running')
    const ipOf = (status: VpnStatus, peer: string): string => status.routes.find((r) => r.peer === peer)!.ip
    await passes(async () => {
      for (const home of homes) assert.is((await home.call<VpnStatus>('vpn.status')).state, 'running')
    }, 20_000)

    // a real ping from one home's namespace to the other home's VPN address
    const [ns0] = [net.topology.homes[0]!.ns.name]
    const target = ipOf(started, homes[1].peerId)
    await passes(async () => {
      const output = await run('ip', ['netns', 'exec', ns0, 'ping', '-c', '3', '-i', '0.2', '-W', '2', target])
      assert.match(output, /3 received/)
    }, 30_000)

    // and status says which way it went: through the owner
    const seen = await homes[0].call<VpnStatus>('vpn.status')
    const route = seen.routes.find((r) => r.peer === homes[1].peerId)!
    assert.is(route.via, owner.peerId, JSON.stringify(seen.routes))
    assert.is(route.path, 'relayed', 'the swarm\'s relay has no limits: a path the VPN uses')
    assert.is(route.problem, undefined)
    assert.ok(seen.traffic.packetsIn > 0 && seen.traffic.packetsOut > 0)

    // the members tried a hole punch on the private host, and their status says why it cannot work
    for (const [self, other] of [[homes[0], homes[1]], [homes[1], homes[0]]] as Array<[NatNode, NatNode]>) {
      const d = (await self.status()).discovery.find((x) => x.network === 'private')!
      assert.equal(d.relayedPeers, [other.peerId])
      assert.match(d.noDirectPath.find((n) => n.peerId === other.peerId)?.reason ?? '', /NAT changes ports \(a symmetric NAT/, JSON.stringify(d))
    }
  } finally {
    await net.stop()
  }
})

test.run()
