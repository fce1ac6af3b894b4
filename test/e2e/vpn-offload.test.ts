// test-runner: solo
// test-needs: ip iperf3
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createLan } from '../../runtime/netdev/lan.js'
import type { Lan } from '../../runtime/netdev/lan.js'
import { runCli } from '../support/cli.js'
import { passes } from '../support/nodes.js'
import { startVpnHost, vpnCli } from '../support/vpn-hosts.js'
import type { VpnHost } from '../support/vpn-hosts.js'

// TUN offloads (docs/vpn.md): two members with them exchange TCP super-packets over
// /dms/vpn/2.0.0; a member without them (an older version, or --vpn-no-offload) speaks
// /dms/vpn/1.0.0 and gets whole packets, cut by the sender. Real daemons, real TUN
// devices, real iperf3 flows in both directions.

const isRoot = process.getuid?.() === 0

type Host = VpnHost
const vpn = vpnCli
const startHost = startVpnHost

/** Mbit/s of a 2 s iperf3 TCP flow from `client` to `server`'s VPN IP (or back with `reverse`). */
async function iperf (client: Host, server: Host, ip: string, reverse = false): Promise<number> {
  const listener = spawn('ip', ['netns', 'exec', server.ns.name, 'iperf3', '-s', '-1', '-B', ip], { stdio: 'ignore' })
  try {
    await new Promise((resolve) => setTimeout(resolve, 500))
    const report = JSON.parse(await client.ns.exec('iperf3', ['-c', ip, '-t', '2', '-J', ...(reverse ? ['-R'] : [])], { timeoutMs: 30_000 })) as { end: { sum_received: { bits_per_second: number } } }
    return report.end.sum_received.bits_per_second / 1e6
  } finally {
    listener.kill()
  }
}

test('TUN offloads: super-packets between members that have them, whole packets to one that does not, in both directions', async () => {
  if (!isRoot) { assert.ok(true, 'needs root: skipped'); return }
  let lan: Lan | undefined
  const hosts: Host[] = []
  const dirs: string[] = []
  try {
    lan = await createLan(3)
    for (let i = 0; i < 3; i++) dirs.push(await mkdtemp(join(tmpdir(), 'dms-offload-')))
    const a = await startHost(lan.hosts[0]!, dirs[0]!, ['--vpn-accept', 'any'])
    hosts.push(a)
    const b = await startHost(lan.hosts[1]!, dirs[1]!, ['--vpn-accept', a.id])
    hosts.push(b)
    const c = await startHost(lan.hosts[2]!, dirs[2]!, ['--vpn-accept', a.id, '--vpn-no-offload'])
    hosts.push(c)
    await vpn(a, 'start', '--subnet', '10.91.0.0/24', '--peers', `${b.address},${c.address}`)
    for (const member of [b, c]) await passes(async () => { assert.is((await vpn(member, 'status')).state, 'running') }, 20_000)

    const [sa, sb, sc] = [await vpn(a, 'status'), await vpn(b, 'status'), await vpn(c, 'status')]
    assert.is(sa.offload, true, 'the kernel gave a offloads')
    assert.is(sb.offload, true)
    assert.is(sc.offload, false, '--vpn-no-offload')
    const text = await runCli(['vpn', 'status', '--data', a.dir])
    assert.match(text.stdout, /\(mtu 16000, offloads\)/)

    // a ↔ b: both have offloads; what b received came in super-packets, larger than the MTU
    const before = sb.traffic
    const ab = await iperf(a, b, '10.91.0.2')
    assert.ok(ab > 50, `a → b: ${ab.toFixed(0)} Mbit/s`)
    const after = (await vpn(b, 'status')).traffic
    const average = (after.bytesIn - before.bytesIn) / (after.packetsIn - before.packetsIn)
    assert.ok(average > sb.mtu!, `b received super-packets: ${average.toFixed(0)} bytes on average, MTU ${sb.mtu}`)

    // a ↔ c: c speaks version 1; a cuts its super-packets into packets c's kernel takes, both ways
    const cBefore = sc.traffic
    const ac = await iperf(a, c, '10.91.0.3')
    assert.ok(ac > 20, `a → c (cut into whole packets): ${ac.toFixed(0)} Mbit/s`)
    const ca = await iperf(a, c, '10.91.0.3', true)
    assert.ok(ca > 20, `c → a: ${ca.toFixed(0)} Mbit/s`)
    const cAfter = (await vpn(c, 'status')).traffic
    const cAverage = (cAfter.bytesIn - cBefore.bytesIn) / (cAfter.packetsIn - cBefore.packetsIn)
    assert.ok(cAverage <= sc.mtu!, `c received whole packets only: ${cAverage.toFixed(0)} bytes on average`)
    assert.is(cAfter.drops.malformed, 0, 'c refused nothing')
    const final = await vpn(a, 'status')
    assert.is(final.traffic.drops.malformed, 0, 'a refused nothing')
    // a says which member gets what: super-packets to b, whole packets to c
    const protocols = Object.fromEntries(final.routes.filter((r) => !r.self).map((r) => [r.ip, r.protocol]))
    assert.equal(protocols, { '10.91.0.2': '/dms/vpn/2.0.0', '10.91.0.3': '/dms/vpn/1.0.0' })
    const lines = (await runCli(['vpn', 'status', '--data', a.dir])).stdout.split('\n')
    assert.ok(lines.some((line) => line.includes('whole packets only') && line.includes(c.id.slice(-4))), lines.join('\n'))
    assert.not.ok(lines.some((line) => line.includes('whole packets only') && line.includes(b.id.slice(-4))))
    assert.ok(lines.every((line) => line.length <= 80), `status fits 80 columns:\n${lines.filter((line) => line.length > 80).join('\n')}`)
  } finally {
    for (const host of hosts) await host.daemon.stop()
    await lan?.destroy()
    for (const dir of dirs) await rm(dir, { recursive: true, force: true })
  }
})

test.run()
