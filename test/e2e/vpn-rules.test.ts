// test-runner: solo
// test-needs: ip nft ping
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createLan } from '../../runtime/netdev/lan.js'
import type { Lan } from '../../runtime/netdev/lan.js'
import { runCli, startDaemon } from '../support/cli.js'
import { passes } from '../support/nodes.js'
import type { Namespace } from '../../runtime/netdev/netns.js'
import type { VpnStatus } from '../../runtime/vpn/vpn-service.js'
import type { VpnPolicy } from '../../runtime/vpn/vpn-rules.js'

const isRoot = process.getuid?.() === 0
const echoScript = join(import.meta.dirname, '../support/tcp-echo.ts')

interface Host { ns: Namespace, ip: string, dir: string, id: string, address: string, daemon: Awaited<ReturnType<typeof startDaemon>> }

async function cli<T> (host: Host, args: string[]): Promise<T> {
  const result = await runCli([...args, '--json', '--data', host.dir], 60_000)
  if (result.code !== 0) throw new Error(`${args.join(' ')} failed (${result.code}): ${result.stderr}${result.stdout}`)
  return JSON.parse(result.stdout) as T
}

const connects = async (from: Namespace, ip: string, port: number): Promise<boolean> =>
  (await from.exec(process.execPath, ['--import', 'tsx', echoScript, 'client', ip, String(port), '4096'], { timeoutMs: 20_000 }).catch((err: Error) => err.message)).includes('echoed 4096')
const pings = async (from: Namespace, ip: string): Promise<boolean> =>
  /[12] received/.test(await from.exec('ping', ['-c', '2', '-i', '0.2', '-W', '1', ip], { timeoutMs: 15_000 }).catch((err: Error) => err.message))

test('rules between members: default deny once on, a group may reach another on one port only, replies pass, the receiver enforces; bad rules refused; off lets all through', async () => {
  if (!isRoot) { assert.ok(true, 'needs root: skipped'); return }
  let lan: Lan | undefined
  const hosts: Host[] = []
  const dirs: string[] = []
  const servers: Array<ReturnType<typeof spawn>> = []
  try {
    lan = await createLan(3)
    for (const host of lan.hosts) {
      const dir = await mkdtemp(join(tmpdir(), 'dms-rules-'))
      dirs.push(dir)
      const daemon = await startDaemon(['--data', dir, '--listen', `/ip4/${host.ip}/tcp/4001`, '--vpn-accept', 'any'], { namespace: host.ns.name })
      hosts.push({ ...host, dir, id: daemon.peerId, address: `/ip4/${host.ip}/tcp/4001/p2p/${daemon.peerId}`, daemon })
    }
    const [a, web, db] = hosts as [Host, Host, Host]
    const started = await cli<VpnStatus>(a, ['vpn', 'start', '--subnet', '10.69.0.0/24', '--peers', `${web.address},${db.address}`])
    const ipOf = (host: Host): string => started.routes.find((r) => r.peer === host.id)!.ip
    const serve = (ns: Namespace, host: string, port: number): Promise<void> => new Promise((resolve, reject) => {
      const child = spawn('ip', ['netns', 'exec', ns.name, process.execPath, '--import', 'tsx', echoScript, 'server', host, String(port)], { stdio: ['ignore', 'pipe', 'inherit'] })
      servers.push(child)
      child.stdout.on('data', (chunk: Buffer) => { if (chunk.toString().includes('listening')) resolve() })
      child.once('exit', (code) => { reject(new Error(`echo server exited ${code}`)) })
    })
    await passes(async () => { await serve(db.ns, ipOf(db), 5432) }, 15_000)
    await serve(db.ns, ipOf(db), 2222)
    await serve(web.ns, ipOf(web), 5432)
    assert.ok(await connects(web.ns, ipOf(db), 2222), 'no policy: everything passes')

    await cli(a, ['vpn', 'policy', 'on'])
    await cli(a, ['vpn', 'group', web.id, 'web'])
    await cli(a, ['vpn', 'group', db.id, 'db'])
    const policy = await cli<VpnPolicy>(a, ['vpn', 'rule', 'add', '--from', 'group:web', '--to', 'group:db', '--proto', 'tcp', '--port', '5432'])
    assert.equal(policy.rules, [{ from: 'group:web', to: 'group:db', protocol: 'tcp', ports: [5432, 5432] }])
    assert.equal(policy.groups, { web: [web.id], db: [db.id] })
    await passes(async () => { assert.equal((await cli<VpnStatus>(db, ['vpn', 'status'])).policy?.rules.length, 1) }, 15_000)

    await passes(async () => { assert.ok(await connects(web.ns, ipOf(db), 5432), 'web reaches db on 5432 (and the replies come back)') }, 10_000)
    assert.not.ok(await connects(web.ns, ipOf(db), 2222), 'any other port of db is dropped at db')
    assert.not.ok(await pings(web.ns, ipOf(db)), 'icmp is not allowed')
    assert.not.ok(await connects(db.ns, ipOf(web), 5432), 'the rule has a direction: db may not open connections to web')
    assert.not.ok(await pings(a.ns, ipOf(web)), 'the leader is not in a group either')

    await cli(a, ['vpn', 'rule', 'add', '--from', '*', '--to', '*', '--proto', 'icmp'])
    await passes(async () => { assert.ok(await pings(web.ns, ipOf(db)), 'icmp allowed for all') }, 10_000)

    // bad rules: refused with the reason, the table as it was
    const version = (await cli<VpnStatus>(a, ['vpn', 'status'])).version
    for (const [args, code, reason] of [
      [['rule', 'add', '--from', 'group:nobody', '--to', '*'], 1, /no group "nobody"/],
      [['rule', 'add', '--from', '*', '--to', '*', '--proto', 'sctp'], 2, /--proto is tcp, udp, icmp or any/],
      [['rule', 'add', '--from', '*', '--to', '*', '--proto', 'tcp', '--port', '99999'], 1, /ports must be/],
      [['rule', 'add', '--from', '*', '--to', '*', '--port', '80'], 1, /ports go with tcp or udp only/],
      [['rule', 'remove', '7'], 1, /no rule 7/],
      [['group', web.id, 'Bad Group'], 1, /bad group/]
    ] as const) {
      const result = await runCli(['vpn', ...args, '--data', a.dir])
      assert.is(result.code, code, `${args.join(' ')}: ${result.stderr}`)
      assert.match(result.stderr, reason)
    }
    assert.match((await runCli(['vpn', 'policy', 'off', '--data', web.dir])).stderr, /only the VPN's leader/)
    assert.is((await cli<VpnStatus>(a, ['vpn', 'status'])).version, version)

    // off: everything passes again, and the members' nft tables are gone
    await cli(a, ['vpn', 'policy', 'off'])
    await passes(async () => { assert.ok(await connects(web.ns, ipOf(db), 2222)) }, 10_000)
    await passes(async () => { assert.not.match(await db.ns.exec('nft', ['list', 'tables']), /dms_rules/) }, 5000)
  } finally {
    for (const server of servers) server.kill()
    for (const host of hosts) await host.daemon.stop().catch(() => {}) // best effort: the namespaces go next
    await lan?.destroy()
    for (const dir of dirs) await rm(dir, { recursive: true, force: true })
  }
})

test.run()
