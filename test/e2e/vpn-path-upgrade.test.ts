// test-needs: ip nft ping iperf3 turnserver
// test-runner: solo
import { spawn } from 'node:child_process'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { NatNetwork } from '../support/nat-network.js'
import type { NatNode } from '../support/nat-network.js'
import { passes } from '../support/nodes.js'
import { run } from '../../runtime/netdev/run.js'
import type { VpnStatus } from '../../runtime/vpn/vpn-service.js'
import type { DiscoveryStatus } from '../../runtime/events.js'

// A public VPN between two homes whose NATs first change ports (no punch can work: the VPN runs
// through the leader's relay) and then keep them (a router reconfigured). The pair tries the punch
// again when its backoff is over, goes direct, and the VPN's stream moves to the direct connection
// under a running iperf3 flow, which goes on. Root only.
const isRoot = process.getuid?.() === 0

interface IperfReport { intervals: Array<{ sum: { start: number, bytes: number } }>, end: { sum_received: { bytes: number } }, error?: string }

const discoveryOf = async (node: NatNode): Promise<DiscoveryStatus> => (await node.status()).discovery.find((d) => d.network === 'public')!

test('relayed to direct under a running iperf3 flow: the flow goes on, and the VPN route says direct', async () => {
  if (!isRoot) { assert.ok(true, 'needs root for namespaces: skipped'); return }
  const net = await NatNetwork.create([{ symmetric: true }, { symmetric: true }], { startHomes: false, publicHosts: 1, homeArgs: ['--nat'], stun: true })
  let server: ReturnType<typeof spawn> | undefined
  try {
    const leader = await net.startPublic(1, { args: [] })
    const leaderAddress = net.publicAddress(1, leader)
    const [a, b] = [
      await net.startHome(0, ['--bootstrap', leaderAddress, '--vpn-accept', 'any']),
      await net.startHome(1, ['--bootstrap', leaderAddress, '--vpn-accept', 'any'])
    ] as [NatNode, NatNode]
    const started = await leader.call<VpnStatus>('vpn.start', { peers: [a.peerId, b.peerId], subnet: '10.98.0.0/24' })
    const target = started.routes.find((r) => r.peer === b.peerId)!.ip
    await passes(async () => {
      assert.match(await run('ip', ['netns', 'exec', net.topology.homes[0]!.ns.name, 'ping', '-c', '2', '-i', '0.2', '-W', '2', target]), /2 received/)
    }, 30_000)
    assert.is((await a.call<VpnStatus>('vpn.status')).routes.find((r) => r.peer === b.peerId)?.via, leader.peerId, 'relayed through the leader first')
    const lower = a.peerId < b.peerId ? a : b
    const higher = lower === a ? b : a
    await passes(async () => { assert.ok((await discoveryOf(lower)).noDirectPath.some((p) => p.peerId === higher.peerId && /changes ports/.test(p.reason))) }, 20_000)

    // a flow through the relay (100 Mbit/s: the flow, not the machine's CPU, is under test), then the routers keep ports from now on
    server = spawn('ip', ['netns', 'exec', net.topology.homes[1]!.ns.name, 'iperf3', '-s', '-1', '-B', target], { stdio: 'ignore' })
    await new Promise((resolve) => setTimeout(resolve, 500))
    const flowStarted = Date.now()
    const client = run('ip', ['netns', 'exec', net.topology.homes[0]!.ns.name, 'iperf3', '-c', target, '-t', '45', '-i', '1', '-b', '100M', '-J'], { timeoutMs: 90_000 })
    await new Promise((resolve) => setTimeout(resolve, 3000))
    for (const home of net.topology.homes) {
      await home.router.exec('nft', ['-f', '-'], { input: 'flush chain ip home postrouting\nadd rule ip home postrouting oifname "wan0" masquerade\n' })
    }

    // the retry punches through within the flow (backoff 30 s after the first failure)
    await passes(async () => { assert.ok((await discoveryOf(a)).punched.some((p) => p.peerId === b.peerId)) }, 40_000)
    const punchedAt = (Date.now() - flowStarted) / 1000
    await passes(async () => { assert.is((await a.call<VpnStatus>('vpn.status')).routes.find((r) => r.peer === b.peerId)?.via, undefined, 'direct now') }, 10_000)

    const report = JSON.parse(await client) as IperfReport
    assert.is(report.error, undefined)
    const after = report.intervals.filter((i) => i.sum.start > punchedAt + 2)
    assert.ok(after.length >= 3, `the flow ran on after the punch at ${punchedAt.toFixed(1)} s (${report.intervals.length} intervals)`)
    assert.ok(after.every((i) => i.sum.bytes > 0), 'no stalled second after the switch')
    const stalled = report.intervals.filter((i) => i.sum.bytes === 0).length
    assert.ok(stalled <= 2, `${stalled} seconds without data`)
    assert.ok(report.end.sum_received.bytes > 0)
  } finally {
    server?.kill()
    await net.stop()
  }
})

test.run()
