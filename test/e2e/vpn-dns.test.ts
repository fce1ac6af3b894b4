// test-runner: solo
// test-needs: ip ping getent
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { runCli } from '../support/cli.js'
import { passes } from '../support/nodes.js'
import { cliJson as cli, startVpnLan } from '../support/vpn-lan.js'
import type { LanHost as Host, VpnLan } from '../support/vpn-lan.js'
import type { VpnStatus } from '../../runtime/vpn/vpn-service.js'
import type { VpnName } from '../../runtime/vpn/vpn-dns.js'

const isRoot = process.getuid?.() === 0
const queryScript = join(import.meta.dirname, '../support/dns-query.ts')

/** One DNS question from inside `from`'s namespace, straight to a server: the reply's rcode and A records. */
async function ask (from: Host, server: string, name: string, ...extra: string[]): Promise<{ rcode: string, answers: Array<{ data: string }> }> {
  const out = await from.ns.exec(process.execPath, ['--import', 'tsx', queryScript, server, '53', name, 'A', ...extra], { timeoutMs: 30_000 })
  return JSON.parse(out.trim().split('\n').at(-1)!) as { rcode: string, answers: Array<{ data: string }> }
}

/** `getent hosts NAME` in a namespace whose resolv.conf names `server`, as a container's would. */
const getent = async (from: Host, name: string): Promise<string> => await from.ns.exec('getent', ['hosts', name], { timeoutMs: 15_000 }).catch(() => '')

test('subnet names: every member answers the leader\'s records and each member\'s peer id on its VPN address; names follow the table; bad names and hostile queries are refused', async () => {
  if (!isRoot) { assert.ok(true, 'needs root: skipped'); return }
  let net: VpnLan | undefined
  try {
    net = await startVpnLan(3, { prefix: 'dms-dns-' })
    const hosts = net.hosts
    // `ip netns exec` puts /etc/netns/<ns>/resolv.conf over /etc/resolv.conf: each host asks its own VPN address
    for (const host of hosts) await mkdir(`/etc/netns/${host.ns.name}`, { recursive: true })
    const [a, b, c] = hosts as [Host, Host, Host]
    const started = await cli<VpnStatus>(a, ['vpn', 'start', '--subnet', '10.67.0.0/24', '--peers', `${b.address},${c.address}`])
    const ipOf = (peer: string): string => started.routes.find((r) => r.peer === peer)!.ip
    for (const [host, own] of [[a, ipOf(a.id)], [c, ipOf(c.id)]] as const) await writeFile(`/etc/netns/${host.ns.name}/resolv.conf`, `nameserver ${own}\n`)

    const names = await cli<VpnName[]>(a, ['vpn', 'dns', 'add', 'web', ipOf(b.id)])
    assert.ok(names.some((n) => n.name === 'web.dms' && n.ip === ipOf(b.id) && n.kind === 'record'))
    assert.ok(names.some((n) => n.name === `${b.id.toLowerCase()}.dms` && n.kind === 'peer'), 'every member has its peer id as a name')
    await passes(async () => { assert.is((await cli<VpnStatus>(c, ['vpn', 'status'])).names?.['web.dms'], ipOf(b.id)) }, 15_000)

    // a member answers from its own copy of the table; glibc's resolver finds the names, ping uses them
    await passes(async () => { assert.match(await getent(c, 'web.dms'), new RegExp(`^${ipOf(b.id).replaceAll('.', '\\.')}\\s+web\\.dms`)) }, 10_000)
    assert.match(await getent(c, `${b.id}.dms`), new RegExp(`^${ipOf(b.id).replaceAll('.', '\\.')}\\s`), 'a peer id resolves, whatever its case')
    assert.match(await a.ns.exec('ping', ['-c', '2', '-i', '0.2', '-W', '2', 'web.dms'], { timeoutMs: 20_000 }), /2 received/)
    assert.match((await cli<VpnStatus>(c, ['vpn', 'status'])).dns?.server ?? '', new RegExp(`^${ipOf(c.id).replaceAll('.', '\\.')}:53$`))

    // authoritative for the domain only: nothing is forwarded; unknown names are NXDOMAIN; TCP answers too
    assert.is((await ask(c, ipOf(c.id), 'example.com')).rcode, 'REFUSED')
    assert.is((await ask(c, ipOf(c.id), 'nobody.dms')).rcode, 'NXDOMAIN')
    assert.equal((await ask(c, ipOf(a.id), 'WEB.dms', '--tcp')).answers.map((x) => x.data), [ipOf(b.id)])
    // garbage first, then a flood from one source: the server keeps answering (the flood is cut, not served)
    assert.equal((await ask(c, ipOf(c.id), 'web.dms', '--garbage', '50')).answers.map((x) => x.data), [ipOf(b.id)])
    assert.is((await ask(c, ipOf(c.id), 'web.dms', '--flood', '3000')).rcode, 'NOERROR')
    assert.ok(((await cli<VpnStatus>(c, ['vpn', 'status'])).dns?.queries?.limited ?? 0) > 0, 'the flood was rate-limited')
    assert.equal((await ask(a, ipOf(c.id), 'web.dms')).answers.map((x) => x.data), [ipOf(b.id)], 'another member is still served')

    // bad input: refused with a reason, the table untouched
    const version = (await cli<VpnStatus>(a, ['vpn', 'status'])).version
    // a misspelt name is the command's to refuse (exit 2); one that does not fit this subnet, the leader's (exit 1)
    for (const [args, code, reason] of [
      [['bad_name!', ipOf(b.id)], 2, /NAME "bad_name!": .*not a DNS label/],
      [['api.other', ipOf(b.id)], 1, /outside the subnet's domain dms/],
      [['db', '10.67.0.99'], 1, /no member's address/],
      [[`${b.id}.dms`, ipOf(c.id)], 1, /stable name/]
    ] as const) {
      const result = await runCli(['vpn', 'dns', 'add', ...args, '--data', a.dir])
      assert.is(result.code, code, result.stderr)
      assert.match(result.stderr, reason, result.stderr)
    }
    const named = await runCli(['vpn', 'add', '12D3KooWCndKw2UnnxuXSSBvabDknGGj8HBHarkuMdT36S2rT6K1', '--name', 'bad_name!', '--data', a.dir])
    assert.is(named.code, 2, named.stderr)
    assert.match(named.stderr, /--name "bad_name!": .*not a DNS label/)
    assert.is((await cli<VpnStatus>(a, ['vpn', 'status'])).routes.length, 3, 'a bad name is refused before the peer is added')
    const member = await runCli(['vpn', 'dns', 'add', 'x', ipOf(b.id), '--data', b.dir])
    assert.match(member.stderr, /only the VPN's leader/)
    assert.is((await runCli(['vpn', 'dns', 'frobnicate', '--data', a.dir])).code, 2)
    assert.is((await cli<VpnStatus>(a, ['vpn', 'status'])).version, version, 'refusals leave the table as it was')

    // a removed name stops resolving within one table version; a removed member takes its names with it
    await cli(a, ['vpn', 'dns', 'remove', 'web'])
    await passes(async () => { assert.is((await ask(c, ipOf(c.id), 'web.dms')).rcode, 'NXDOMAIN') }, 10_000)
    await cli(a, ['vpn', 'dns', 'add', 'db', ipOf(b.id)])
    await cli(a, ['vpn', 'remove', b.id])
    await passes(async () => {
      assert.is((await ask(c, ipOf(c.id), 'db.dms')).rcode, 'NXDOMAIN')
      assert.is((await ask(c, ipOf(c.id), `${b.id.toLowerCase()}.dms`)).rcode, 'NXDOMAIN')
    }, 15_000)
  } finally {
    for (const host of net?.lan.hosts ?? []) await rm(`/etc/netns/${host.ns.name}`, { recursive: true, force: true })
    await net?.close()
  }
})

test.run()
