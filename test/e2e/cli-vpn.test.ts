// test-needs: ip
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { chown, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runCli, startDaemon } from '../support/cli.js'
import { createNamespace } from '../../runtime/netdev/netns.js'

const isRoot = process.getuid?.() === 0
const peer = '12D3KooWCndKw2UnnxuXSSBvabDknGGj8HBHarkuMdT36S2rT6K1'

test('dms-net vpn: bad arguments are usage errors; commands on a stopped VPN say what to do', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dms-cli-vpn-'))
  const daemon = await startDaemon(['--data', dir])
  try {
    const cases: Array<[string[], number, RegExp]> = [
      [['vpn'], 2, /SUBCOMMAND/],
      [['vpn', 'frobnicate'], 2, /unknown vpn subcommand "frobnicate"/],
      [['vpn', 'start', '--peers', peer], 2, /needs --subnet CIDR/],
      [['vpn', 'start', '--subnet', '10.88.0.0/33', '--peers', peer], 2, /IPv4 CIDR/],
      [['vpn', 'start', '--subnet', '10.88.0.0/24'], 2, /needs --peers/],
      [['vpn', 'add'], 2, /vpn add needs PEER/],
      [['vpn', 'add', peer], 1, /the VPN is stopped: start one with dms-net vpn start/],
      [['vpn', 'remove', 'not-a-peer'], 2, /"not-a-peer" is not a peer id/],
      [['vpn', 'start', '--subnet', '10.88.0.0/24', '--peers', 'nope'], 2, /"nope" is not a peer id/],
      [['vpn', 'start', '--subnet', '10.88.0.0/24', '--peers', '/ip4/127.0.0.1/tcp/1'], 2, /has no \/p2p\/<peer id>/]
    ]
    for (const [args, code, message] of cases) {
      const result = await runCli([...args, '--data', dir])
      assert.is(result.code, code, `${args.join(' ')}: ${result.stderr}`)
      assert.match(result.stderr, message, args.join(' '))
    }
    const status = await runCli(['vpn', 'status', '--data', dir])
    assert.is(status.code, 0)
    assert.match(status.stdout, /state\s+stopped/)
    assert.match(status.stdout, /traffic\s+out 0 packets/)
    // the node itself is untouched by all of that
    assert.match((await runCli(['status', '--data', dir])).stdout, /host\s+running/)
  } finally {
    await daemon.stop()
    await rm(dir, { recursive: true, force: true })
  }
})

test('without CAP_NET_ADMIN the VPN fails with a clear reason; the node keeps working; stop recovers', async () => {
  if (!isRoot) { assert.ok(true, 'needs root to create an unprivileged node in a namespace: skipped'); return }
  const ns = await createNamespace('dms-cli-vpn')
  const dir = await mkdtemp(join(tmpdir(), 'dms-cli-vpn-'))
  await chown(dir, 65534, 65534)
  const daemon = await startDaemon(['--data', join(dir, 'node')], { namespace: ns.name, uid: 65534 })
  try {
    const started = await runCli(['vpn', 'start', '--subnet', '10.88.0.0/24', '--peers', peer, '--data', join(dir, 'node')], 60_000)
    assert.is(started.code, 1)
    assert.match(started.stdout, /state\s+failed/)
    // which words depends on the machine's /dev/net/tun mode: 0666 lets the open succeed and TUNSETIFF refuse
    assert.match(started.stdout, /TUN devices are not available: (permission denied creating the device|\/dev\/net\/tun is missing or not accessible) \(the VPN needs root,? or CAP_NET_ADMIN/, started.stdout + started.stderr)
    assert.match((await runCli(['status', '--data', join(dir, 'node')])).stdout, /host\s+running/)
    const stopped = await runCli(['vpn', 'stop', '--data', join(dir, 'node')])
    assert.is(stopped.code, 0, stopped.stderr + stopped.stdout)
    assert.match(stopped.stdout, /state\s+stopped/)
  } finally {
    await daemon.stop()
    await ns.delete()
    await rm(dir, { recursive: true, force: true })
  }
})

test.run()
