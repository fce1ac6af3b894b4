// test-runner: solo
// test-needs: ip ping
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createLan } from '../../runtime/netdev/lan.js'
import type { Lan } from '../../runtime/netdev/lan.js'
import { runCli, startDaemon } from '../support/cli.js'
import { passes } from '../support/nodes.js'
import type { Namespace } from '../../runtime/netdev/netns.js'
import type { VpnStatus } from '../../runtime/vpn/vpn-service.js'

const isRoot = process.getuid?.() === 0

interface Host { ns: Namespace, ip: string, dir: string, id: string, address: string, daemon: Awaited<ReturnType<typeof startDaemon>> }

async function cli (host: Host, args: string[]): Promise<string> {
  const result = await runCli([...args, '--data', host.dir], 60_000)
  if (result.code !== 0) throw new Error(`${args.join(' ')} failed (${result.code}): ${result.stderr}${result.stdout}`)
  return result.stdout
}
const vpn = async (host: Host, ...args: string[]): Promise<VpnStatus> => JSON.parse(await cli(host, ['vpn', ...args, '--json'])) as VpnStatus

async function ping (from: Host, ip: string, count = 3): Promise<number> {
  const out = await from.ns.exec('ping', ['-c', String(count), '-i', '0.2', '-W', '1', ip], { timeoutMs: 30_000 }).catch((err: Error) => err.message)
  return Number(/(\d+) received/.exec(out)?.[1] ?? 0)
}

test('VPN inside a private swarm: invitations over the swarm, peers added at once, survives a key rotation, drops a revoked peer', async () => {
  if (!isRoot) { assert.ok(true, 'needs root: skipped'); return }
  let lan: Lan | undefined
  const hosts: Host[] = []
  const dirs: string[] = []
  try {
    lan = await createLan(4)
    for (const host of lan.hosts) {
      const dir = await mkdtemp(join(tmpdir(), 'dms-vpnp-'))
      dirs.push(dir)
      // no --vpn-accept: invitations are accepted only over the private swarm
      const daemon = await startDaemon(['--data', dir, '--listen', `/ip4/${host.ip}/tcp/4001`], { namespace: host.ns.name })
      const id = daemon.peerId
      hosts.push({ ...host, dir, id, address: `/ip4/${host.ip}/tcp/4001/p2p/${id}`, daemon })
    }
    const [a, b, c, d] = hosts as [Host, Host, Host, Host]

    // on the public network, b refuses an invitation from a peer it was not told to accept
    const refused = await runCli(['vpn', 'start', '--subnet', '10.66.0.0/24', '--peers', b.address, '--json', '--data', a.dir], 60_000)
    assert.is(refused.code, 1, 'a member that refused its IP is a failed start')
    assert.is((JSON.parse(refused.stdout) as VpnStatus).state, 'running')
    assert.match(refused.stderr, /did not confirm their IP: \S+ \((VPN_REFUSED|unreachable\?)\)/)
    await passes(async () => { assert.match((await vpn(a, 'status')).members[b.id]?.error ?? '', /does not accept VPN invitations/) }, 10_000)
    assert.is((await vpn(b, 'status')).state, 'stopped')
    await vpn(a, 'stop')

    await cli(a, ['swarm', 'create', '--authorise', b.id, '--authorise', c.id, '--authorise', d.id])
    for (const member of [b, c, d]) await cli(member, ['swarm', 'join', '--owner', a.address])

    const started = await vpn(a, 'start', '--subnet', '10.66.0.0/24', '--peers', b.id)
    assert.is(started.network, 'private')
    await passes(async () => { assert.is((await vpn(b, 'status')).state, 'running') }, 15_000)

    // two peers added at the same moment get distinct, fresh IPs
    const [addC, addD] = await Promise.all([vpn(a, 'add', c.id), vpn(a, 'add', d.id)])
    const ipOf = (s: VpnStatus, peer: string): string | undefined => s.routes.find((r) => r.peer === peer)?.ip
    const final = await vpn(a, 'status')
    assert.equal(final.routes.map((r) => r.ip).sort(), ['10.66.0.1', '10.66.0.2', '10.66.0.3', '10.66.0.4'])
    assert.ok(ipOf(addC, c.id) != null && ipOf(addD, d.id) != null)
    assert.is.not(ipOf(final, c.id), ipOf(final, d.id))
    for (const member of [b, c, d]) await passes(async () => { assert.is((await vpn(member, 'status')).version, 3) }, 15_000)
    assert.ok(await ping(b, ipOf(final, d.id)!) >= 2, 'b reaches d over the private swarm')

    // a key rotation restarts the private hosts; the VPN follows onto the new ones
    await cli(a, ['swarm', 'rotate'])
    await passes(async () => { assert.ok(await ping(c, '10.66.0.2', 2) >= 1, 'c reaches b after the rotation') }, 20_000)
    // every pair comes back, each once both its ends run on the new key
    await passes(async () => { assert.ok(await ping(a, ipOf(final, d.id)!, 2) >= 1, 'a reaches d after the rotation') }, 20_000)

    // revoking d from the swarm takes it out of the VPN a leads inside the swarm: a new table version
    // without d reaches the remaining members, and they keep reaching each other
    const before = (await vpn(a, 'status')).version!
    await cli(a, ['swarm', 'revoke', d.id])
    await passes(async () => {
      const led = await vpn(a, 'status')
      assert.ok(led.version! > before, `table version ${led.version} after ${before}`)
      assert.not.ok(led.routes.some((r) => r.peer === d.id), 'd has no route on the leader')
    }, 15_000)
    const version = (await vpn(a, 'status')).version
    for (const member of [b, c]) {
      await passes(async () => {
        const seen = await vpn(member, 'status')
        assert.is(seen.version, version)
        assert.not.ok(seen.routes.some((r) => r.peer === d.id))
      }, 20_000)
    }
    assert.is(await ping(b, ipOf(final, d.id)!, 2), 0, 'b no longer reaches d')
    await passes(async () => { assert.ok(await ping(b, ipOf(final, c.id)!, 2) >= 1, 'b still reaches c') }, 20_000)
  } finally {
    await Promise.all(hosts.map(async (h) => await h.daemon.stop()))
    await lan?.destroy()
    await Promise.all(dirs.map(async (dir) => { await rm(dir, { recursive: true, force: true }) }))
  }
})

test.run()
