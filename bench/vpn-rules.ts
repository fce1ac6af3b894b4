// `npm run bench vpn-rules`: what the subnet's rules cost the data plane. iperf3 through the VPN between two
// namespaces with the policy off (the baseline) and on (one allow rule for iperf3's port; every packet then
// passes the receiver's nftables chain and conntrack), rounds alternating, in the same run.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createNamespace } from '../runtime/netdev/netns.js'
import { createVethPair } from '../runtime/netdev/veth.js'
import { run } from '../runtime/netdev/run.js'
import { iperf } from './support/iperf.js'
import { dmsNet, startDaemon, waitRunning } from './support/vpn-daemons.js'
import { machineLine, writeSection } from './report.js'
import { DEFAULT_VPN_MTU } from '../runtime/vpn/vpn-service.js'

const median = (values: number[]): number => [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)]!

export async function runVpnRulesBench (options: { seconds?: number, rounds?: number } = {}): Promise<void> {
  if (process.getuid?.() !== 0) { process.stdout.write('vpn-rules bench skipped: needs root (namespaces, TUN devices)\n'); return }
  await run('sh', ['-c', 'command -v iperf3 && command -v nft']).catch(() => { throw new Error('the vpn-rules bench needs iperf3 and nft') })
  const seconds = options.seconds ?? 4
  const rounds = options.rounds ?? 5
  const dir = await mkdtemp(join(tmpdir(), 'dms-bench-rules-'))
  const a = await createNamespace('dms-bench')
  const b = await createNamespace('dms-bench')
  const off: number[] = []
  const on: number[] = []
  const daemons: Array<Awaited<ReturnType<typeof startDaemon>>> = []
  try {
    await createVethPair({ name: 'veth-a', namespace: a.name, address: '10.77.0.1/24' }, { name: 'veth-b', namespace: b.name, address: '10.77.0.2/24' })
    const nodeA = await startDaemon(a, '10.77.0.1', 4001, join(dir, 'a'), { mtu: DEFAULT_VPN_MTU })
    const nodeB = await startDaemon(b, '10.77.0.2', 4001, join(dir, 'b'), { accept: [nodeA.id], mtu: DEFAULT_VPN_MTU })
    daemons.push(nodeA, nodeB)
    await dmsNet(nodeA, ['vpn', 'start', '--subnet', '10.88.0.0/24', '--peers', nodeB.address])
    await waitRunning(nodeB)
    await iperf(a, b, '10.88.0.2', 2) // warm-up
    for (let round = 1; round <= rounds; round++) {
      await dmsNet(nodeA, ['vpn', 'policy', 'off'])
      off.push(await iperf(a, b, '10.88.0.2', seconds))
      await dmsNet(nodeA, ['vpn', 'policy', 'on'])
      await dmsNet(nodeA, ['vpn', 'rule', 'add', '--from', nodeA.id, '--to', nodeB.id, '--proto', 'tcp', '--port', '5201'])
      await new Promise((resolve) => setTimeout(resolve, 1000)) // the member applies the new version
      on.push(await iperf(a, b, '10.88.0.2', seconds))
      process.stdout.write(`round ${round}: policy off ${off.at(-1)!.toFixed(0)}, on ${on.at(-1)!.toFixed(0)} Mbit/s\n`)
    }
  } finally {
    for (const daemon of daemons) await daemon.node.stop().catch(() => {}) // best effort: the namespaces go next
    await a.delete()
    await b.delete()
    await rm(dir, { recursive: true, force: true })
  }
  const ratios = off.map((value, i) => on[i]! / value)
  const body = `${machineLine()}; iperf3 TCP through the public-network VPN (MTU ${DEFAULT_VPN_MTU}), ${seconds} s per run, ${rounds} rounds alternating.

| path | Mbit/s (median) | vs policy off |
| --- | --- | --- |
| policy off (baseline) | ${median(off).toFixed(0)} | 1.00× |
| policy on, one allow rule (receiver's nftables + conntrack) | ${median(on).toFixed(0)} | ${(median(on) / median(off)).toFixed(2)}× (median of each round's ratio ${median(ratios).toFixed(2)}×) |

Every round: off ${off.map((v) => v.toFixed(0)).join('/')}; on ${on.map((v) => v.toFixed(0)).join('/')}.`
  process.stdout.write(`${body}\n`)
  await writeSection('VPN rules: throughput with the policy on and off', body)
}
