// test-runner: solo
// test-needs: ip nft ping
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { runCli } from '../support/cli.js'
import { passes } from '../support/nodes.js'
import { cliJson as cli, echoFrom, startVpnLan } from '../support/vpn-lan.js'
import type { LanHost, VpnLan } from '../support/vpn-lan.js'
import type { Namespace } from '../../runtime/netdev/netns.js'
import type { VpnStatus } from '../../runtime/vpn/vpn-service.js'
import type { VpnPolicy } from '../../runtime/vpn/vpn-rules.js'

const isRoot = process.getuid?.() === 0

const connects = async (from: Namespace, ip: string, port: number): Promise<boolean> => await echoFrom(from, ip, port, 4096) === 'echoed 4096'
const pings = async (from: Namespace, ip: string): Promise<boolean> =>
  /[12] received/.test(await from.exec('ping', ['-c', '2', '-i', '0.2', '-W', '1', ip], { timeoutMs: 15_000 }).catch((err: Error) => err.message))

test('rules between members: default deny once on, a group may reach another on one port only, replies pass, the receiver enforces; bad rules refused; off lets all through', async () => {
  if (!isRoot) { assert.ok(true, 'needs root: skipped'); return }
  let net: VpnLan | undefined
  try {
    net = await startVpnLan(3, { prefix: 'dms-rules-' })
    const { serveEcho } = net
    const [a, web, db] = net.hosts as [LanHost, LanHost, LanHost]
    const started = await cli<VpnStatus>(a, ['vpn', 'start', '--subnet', '10.69.0.0/24', '--peers', `${web.address},${db.address}`])
    const ipOf = (host: LanHost): string => started.routes.find((r) => r.peer === host.id)!.ip
    await passes(async () => { await serveEcho(db.ns, ipOf(db), 5432) }, 15_000)
    await serveEcho(db.ns, ipOf(db), 2222)
    await serveEcho(web.ns, ipOf(web), 5432)
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
      [['rule', 'add', '--from', '*', '--to', '*', '--proto', 'tcp', '--port', '99999'], 2, /ports go from 1 to 65535/],
      [['rule', 'add', '--from', '*', '--to', '*', '--port', '80'], 2, /--port goes with --proto tcp or udp/],
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
    await net?.close()
  }
})

test.run()
