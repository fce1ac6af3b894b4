// test-runner: solo
// test-needs: ip nft
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { runCli } from '../support/cli.js'
import { passes } from '../support/nodes.js'
import { cliJson as cli, echoFrom, startVpnLan } from '../support/vpn-lan.js'
import type { LanHost, VpnLan } from '../support/vpn-lan.js'
import type { VpnStatus } from '../../runtime/vpn/vpn-service.js'
import type { PublishedPort } from '../../runtime/vpn/vpn-ports.js'

const isRoot = process.getuid?.() === 0

test('a published port on the leader\'s host reaches a member\'s service over the VPN from outside it; conflicts are refused; all of it goes with unpublish and stop', async () => {
  if (!isRoot) { assert.ok(true, 'needs root: skipped'); return }
  let net: VpnLan | undefined
  try {
    net = await startVpnLan(3, { daemons: 2, prefix: 'dms-ports-' })
    const { serveEcho } = net
    const [a, b] = net.hosts as [LanHost, LanHost]
    const outside = net.lan.hosts[2]!.ns // on the LAN, not in the VPN
    const started = await cli<VpnStatus>(a, ['vpn', 'start', '--subnet', '10.68.0.0/24', '--peers', b.address])
    const bIp = started.routes.find((r) => r.peer === b.id)!.ip
    // b's service listens on its VPN address only: nothing outside the VPN reaches it directly
    await passes(async () => { await serveEcho(b.ns, bIp, 7000) }, 15_000)
    assert.match(await echoFrom(outside, bIp, 7000, 16), /failed/, 'the member is not reachable from outside the VPN')
    assert.match(await echoFrom(outside, a.ip, 8080, 16), /failed/, 'nothing is published yet')

    const ports = await cli<PublishedPort[]>(a, ['vpn', 'publish', '8080', `${bIp}:7000`])
    assert.equal(ports, [{ at: a.id, protocol: 'tcp', port: 8080, to: { ip: bIp, port: 7000 } }])
    await passes(async () => { assert.is(await echoFrom(outside, a.ip, 8080), 'echoed 65536') }, 10_000)
    assert.equal((await cli<VpnStatus>(b, ['vpn', 'status'])).ports, ports, 'the port travels in the signed table')

    // conflicts and bad input: refused with a reason, the table as it was
    await serveEcho(a.ns, '0.0.0.0', 9090)
    const version = (await cli<VpnStatus>(a, ['vpn', 'status'])).version
    for (const [args, code, reason] of [
      [['9090', `${bIp}:7000`], 1, /tcp\/9090 is in use on this host/],
      [['8080', `${bIp}:7001`], 1, /published already/],
      [['8081', '10.68.0.99:7000'], 1, /no member's address/],
      [['70000', `${bIp}:7000`], 2, /port from 1 to 65535/],
      [['8082', 'somewhere'], 2, /IP:PORT/]
    ] as const) {
      const result = await runCli(['vpn', 'publish', ...args, '--data', a.dir])
      assert.is(result.code, code, `${args.join(' ')}: ${result.stderr}`)
      assert.match(result.stderr, reason)
    }
    assert.match((await runCli(['vpn', 'publish', '8083', `${bIp}:7000`, '--data', b.dir])).stderr, /only the VPN's leader/)
    assert.is((await cli<VpnStatus>(a, ['vpn', 'status'])).version, version)

    // a member decides whether the leader may publish ports on its host: b did not say so, so it refuses
    await cli(a, ['vpn', 'publish', '9191', `${bIp}:7000`, '--at', b.id])
    await passes(async () => { assert.match((await cli<VpnStatus>(b, ['vpn', 'status'])).portsError ?? '', /tcp\/9191 on this host: refused/) }, 10_000)
    assert.not.match(await b.ns.exec('nft', ['list', 'tables']), /dms_ports/)
    await cli(a, ['vpn', 'unpublish', '9191', '--at', b.id])

    // unpublish closes it; stop removes the table and gives IP forwarding back as it found it
    assert.equal(await cli<PublishedPort[]>(a, ['vpn', 'unpublish', '8080']), [])
    assert.match(await echoFrom(outside, a.ip, 8080, 16), /failed/)
    await cli(a, ['vpn', 'publish', '8080', `${bIp}:7000`])
    await passes(async () => { assert.is(await echoFrom(outside, a.ip, 8080, 1024), 'echoed 1024') }, 10_000)
    assert.match(await a.ns.exec('nft', ['list', 'tables']), /dms_ports_dmsvpn0/)
    await cli(a, ['vpn', 'stop'])
    assert.not.match(await a.ns.exec('nft', ['list', 'tables']), /dms_ports/)
    assert.is((await a.ns.exec('cat', ['/proc/sys/net/ipv4/ip_forward'])).trim(), '0')
    assert.match(await echoFrom(outside, a.ip, 8080, 16), /failed/)
  } finally {
    await net?.close()
  }
})

test.run()
