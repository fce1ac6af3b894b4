// test-runner: solo
// test-needs: ip ping iperf3
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { spawn } from 'node:child_process'
import { mkdtemp, rm, access } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createLan } from '../../runtime/netdev/lan.js'
import type { Lan } from '../../runtime/netdev/lan.js'
import { runCli } from '../support/cli.js'
import { passes } from '../support/nodes.js'
import { listNamespaces } from '../../runtime/netdev/netns.js'
import type { Namespace } from '../../runtime/netdev/netns.js'
import { startVpnHost, vpnCli } from '../support/vpn-hosts.js'
import type { VpnHost } from '../support/vpn-hosts.js'

const isRoot = process.getuid?.() === 0
const intruder = fileURLToPath(new URL('../support/vpn-intruder.ts', import.meta.url))

type Host = VpnHost
const vpn = vpnCli
const startHost = async (host: { ns: Namespace, ip: string }, dir: string, accept: string): Promise<Host> => await startVpnHost(host, dir, ['--vpn-accept', accept])

/** Packets answered out of `count` pings from a host's namespace. */
async function ping (from: Host, ip: string, count = 3, interval = '0.2'): Promise<number> {
  const out = await from.ns.exec('ping', ['-c', String(count), '-i', interval, '-W', '1', ip], { timeoutMs: 30_000 }).catch((err: Error) => err.message)
  return Number(/(\d+) received/.exec(out)?.[1] ?? 0)
}

test('VPN over three namespaces: start, ping, iperf3, spoof, non-member, remove, add, member restart, leader stop', async () => {
  if (!isRoot) { assert.ok(true, 'needs root: skipped'); return }
  let lan: Lan | undefined
  const hosts: Host[] = []
  const dirs: string[] = []
  try {
    lan = await createLan(3)
    for (let i = 0; i < 3; i++) dirs.push(await mkdtemp(join(tmpdir(), 'dms-vpn-')))
    const leader = await startHost(lan.hosts[0]!, dirs[0]!, 'any')
    hosts.push(leader)
    for (let i = 1; i < 3; i++) hosts.push(await startHost(lan.hosts[i]!, dirs[i]!, leader.id))
    const [a, b, c] = hosts as [Host, Host, Host]

    // bad input: a clear refusal, nothing started
    const badSubnet = await runCli(['vpn', 'start', '--subnet', '10.88.0.1/24', '--peers', b.id, '--data', a.dir])
    assert.is(badSubnet.code, 2)
    assert.match(badSubnet.stderr, /host bits set/)
    const badPeer = await runCli(['vpn', 'start', '--subnet', '10.88.0.0/24', '--peers', 'not-a-peer', '--data', a.dir])
    assert.is.not(badPeer.code, 0)
    assert.match(badPeer.stderr, /not a peer id/)
    assert.is((await vpn(a, 'status')).state, 'stopped')

    const started = await vpn(a, 'start', '--subnet', '10.88.0.0/24', '--peers', `${b.address},${c.address}`)
    assert.is(started.state, 'running')
    assert.equal(started.routes.map((r) => r.ip), ['10.88.0.1', '10.88.0.2', '10.88.0.3'])
    for (const member of [b, c]) {
      await passes(async () => { const s = await vpn(member, 'status'); assert.is(s.state, 'running'); assert.is(s.version, 1) }, 15_000)
    }
    assert.is((await vpn(b, 'status')).ip, '10.88.0.2')

    // leader ↔ member and member ↔ member
    assert.ok(await ping(a, '10.88.0.2') >= 2, 'a reaches b')
    assert.ok(await ping(b, '10.88.0.3') >= 2, 'b reaches c')
    assert.ok(await ping(c, '10.88.0.1') >= 2, 'c reaches a')
    // each member says how it reaches the others: all direct on a LAN, no problem to report
    const paths = (await vpn(b, 'status')).routes.filter((r) => !r.self)
    assert.equal(paths.map((r) => [r.path, r.problem]), [['direct', undefined], ['direct', undefined]])

    // a real TCP bulk transfer across the VPN
    const server = spawn('ip', ['netns', 'exec', c.ns.name, 'iperf3', '-s', '-1', '-B', '10.88.0.3'], { stdio: 'ignore' })
    try {
      await new Promise((resolve) => setTimeout(resolve, 500))
      const report = JSON.parse(await b.ns.exec('iperf3', ['-c', '10.88.0.3', '-t', '2', '-J'], { timeoutMs: 20_000 })) as { end: { sum_received: { bits_per_second: number } } }
      const mbits = report.end.sum_received.bits_per_second / 1e6
      assert.ok(mbits > 10, `iperf3 across the VPN: ${mbits.toFixed(0)} Mbit/s`)
    } finally {
      server.kill()
    }

    // a spoofed source address is dropped by the receiver
    await b.ns.exec('ip', ['addr', 'add', '10.88.0.99/32', 'dev', 'dmsvpn0'])
    const spoofed = await b.ns.exec('ping', ['-c', '3', '-i', '0.2', '-W', '1', '-I', '10.88.0.99', '10.88.0.1'], { timeoutMs: 20_000 }).catch((err: Error) => err.message)
    assert.match(spoofed, /3 packets transmitted, 0 received/)
    await passes(async () => { assert.ok((await vpn(a, 'status')).traffic.drops.spoofed >= 3) }, 5000)

    // a peer that is not a member gets its VPN stream refused
    const verdict = await b.ns.exec(process.execPath, ['--import', 'tsx', intruder, a.address], { timeoutMs: 20_000 })
    // both versions of the data plane's protocol turn a non-member away
    assert.match(verdict, /\/dms\/vpn\/2\.0\.0 refused/)
    assert.match(verdict, /\/dms\/vpn\/1\.0\.0 refused/)
    await passes(async () => { assert.ok((await vpn(a, 'status')).traffic.drops.nonMember >= 2) }, 5000)

    // remove b while a talks to c: b's IP stops answering, a ↔ c never notices
    const steady = ping(a, '10.88.0.3', 20, '0.1')
    const removed = await vpn(a, 'remove', b.id)
    assert.equal(removed.routes.map((r) => r.ip), ['10.88.0.1', '10.88.0.3'])
    assert.is(await steady, 20, 'no packet between a and c lost during the removal')
    await passes(async () => { assert.is((await vpn(b, 'status')).state, 'stopped') }, 15_000)
    assert.is(await ping(a, '10.88.0.2', 2), 0)
    await passes(async () => { assert.is((await vpn(c, 'status')).version, 2) }, 10_000)

    // add b back: a fresh IP (its old one is retired), everybody's table grows
    const readded = await vpn(a, 'add', b.id)
    assert.is(readded.routes.find((r) => r.peer === b.id)?.ip, '10.88.0.4')
    await passes(async () => { assert.is((await vpn(b, 'status')).ip, '10.88.0.4') }, 15_000)
    await passes(async () => { assert.is((await vpn(c, 'status')).version, 3) }, 10_000)
    assert.ok(await ping(c, '10.88.0.4') >= 2, 'c reaches the re-added b')

    // restart member c: it comes back with its IP from disk
    await c.daemon.stop()
    const c2 = await startHost(lan.hosts[2]!, c.dir, a.id)
    hosts[2] = c2
    assert.match(c2.daemon.output(), /vpn: member, running, 10\.88\.0\.3 \(version 3\)/)
    assert.ok(await ping(a, '10.88.0.3', 5) >= 3, 'a reaches the restarted c')

    // the leader stops: the VPN closes for every member, state files go
    const stopped = await vpn(a, 'stop')
    assert.is(stopped.state, 'stopped')
    for (const member of [b, c2]) {
      await passes(async () => { assert.is((await vpn(member, 'status')).state, 'stopped') }, 15_000)
      const left = await access(join(member.dir, 'vpn', 'table.bin')).then(() => true, () => false)
      assert.not.ok(left, 'a closed VPN leaves no table on disk')
    }
  } finally {
    await Promise.all(hosts.map(async (h) => await h.daemon.stop()))
    await lan?.destroy()
    await Promise.all(dirs.map(async (dir) => { await rm(dir, { recursive: true, force: true }) }))
  }
  const namespaces = await listNamespaces()
  assert.not.ok(lan?.hosts.some((h) => namespaces.includes(h.ns.name)), 'every namespace removed')
})

test.run()
