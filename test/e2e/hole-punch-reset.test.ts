// test-needs: ip nft ping turnserver python3
// test-runner: solo
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { NatNetwork } from '../support/nat-network.js'
import type { NatNode } from '../support/nat-network.js'
import { passes } from '../support/nodes.js'
import { runCli } from '../support/cli.js'
import { run } from '../../runtime/netdev/run.js'
import type { DiscoveryStatus } from '../../runtime/events.js'

// The reset cell of docs/discovery.md's NAT matrix: two homes behind NATs that keep ports, whose
// routers answer unsolicited SYNs with a TCP reset (Linux with no firewall rule, OpenWrt's default
// REJECT), each 20 ms from the wan as on the internet. The punch of /dms/holepunch/1.1.0 times both
// SYNs by the relayed connection's RTT, so neither reaches the other router before that router's own
// SYN left. Root only.
const isRoot = process.getuid?.() === 0

const discoveryOf = async (node: NatNode): Promise<DiscoveryStatus> => (await node.status()).discovery.find((d) => d.network === 'public')!

test('routers that reset unsolicited SYNs: a synchronised punch goes direct', async () => {
  if (!isRoot) { assert.ok(true, 'needs root for namespaces: skipped'); return }
  const resetting = { resets: true, delayMs: 20 }
  const net = await NatNetwork.create([resetting, resetting], { stun: true })
  try {
    const [a, b] = net.homes as [NatNode, NatNode]
    // the topology does what it says: an unsolicited SYN to a home router is reset, not dropped,
    // and a home is 20 ms from the wan each way
    const probe = await run('ip', ['netns', 'exec', net.topology.publicHosts[0]!.ns.name, 'python3', '-c',
      `import socket\ns=socket.socket(); s.settimeout(3)\ntry:\n  s.connect(('${net.topology.homes[1]!.publicIp}', 40000)); print('open')\nexcept ConnectionRefusedError: print('reset')\nexcept socket.timeout: print('dropped')`])
    assert.is(probe.trim(), 'reset')
    const ping = await run('ip', ['netns', 'exec', net.topology.homes[0]!.ns.name, 'ping', '-c', '2', '-i', '0.2', '-W', '2', net.topology.publicHosts[0]!.ip])
    const rtt = Number(/= [\d.]+\/([\d.]+)\//.exec(ping)?.[1])
    assert.ok(rtt >= 40 && rtt < 200, ping)

    for (const home of [a, b]) await passes(async () => { assert.is((await discoveryOf(home)).relay, 'reserved') }, 20_000)
    await a.call('dial', { target: b.peerId })
    await net.punchedBothWays()
    const text = await runCli(['status', '--data', a.dir])
    assert.match(text.stdout, /direct\s+\S+\s+by\s+TCP\s+hole\s+punch/)
    // the direct connection carries typed messages: b answers with its own error (it leads no VPN)
    try {
      await a.call('request', { peer: b.peerId, type: 'vpn.sync', body: {} })
      assert.unreachable('b leads no VPN')
    } catch (err) {
      assert.match((err as Error).message, /this node does not lead a VPN/)
    }
  } finally {
    await net.stop()
  }
})

test.run()
