// test-needs: ip
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { spawn } from 'node:child_process'
import { chown, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { cliPath, runCli } from '../support/cli.js'
import { createNamespace } from '../../runtime/netdev/netns.js'

// The systemd unit of docs/install.md, reproduced without systemd: the daemon runs as
// `nobody` with only the ambient capability CAP_NET_ADMIN (AmbientCapabilities=), and
// /dev/net/tun is accessible to it (DeviceAllow= plus a udev rule; here a private
// mount namespace binds a 0666 node of the same device over it). It leads a VPN.

const isRoot = process.getuid?.() === 0

test('as nobody with only CAP_NET_ADMIN, a daemon brings up the VPN device with its IP', async () => {
  if (!isRoot) { assert.ok(true, 'needs root to set up the unprivileged user: skipped'); return }
  const ns = await createNamespace('dms-cap')
  const dir = await mkdtemp(join(tmpdir(), 'dms-cap-'))
  await chown(dir, 65534, 65534)
  const data = join(dir, 'node')
  const script = [
    `mknod ${dir}/tun c 10 200 && chmod 666 ${dir}/tun && mount --bind ${dir}/tun /dev/net/tun`,
    `exec setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=+net_admin --ambient-caps=+net_admin -- ${process.execPath} ${cliPath} node --data ${data}`
  ].join(' && ')
  const child = spawn('ip', ['netns', 'exec', ns.name, 'unshare', '--mount', 'sh', '-c', script], { stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString() })
  child.stderr.on('data', (chunk: Buffer) => { output += chunk.toString() })
  try {
    const deadline = Date.now() + 30_000
    while (!output.includes('control socket')) {
      if (Date.now() > deadline || child.exitCode != null) throw new Error(`the daemon did not start:\n${output}`)
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    const started = await runCli(['vpn', 'start', '--subnet', '10.89.0.0/24', '--peers', '12D3KooWCndKw2UnnxuXSSBvabDknGGj8HBHarkuMdT36S2rT6K1', '--data', data], 60_000)
    // the leader runs; the invited peer is nowhere to be reached, and the exit code and stderr say so
    assert.is(started.code, 1, started.stdout + started.stderr)
    assert.match(started.stdout, /state\s+running \(leader\)/)
    assert.match(started.stderr, /1 member\(s\) did not confirm their IP: 12D3KooWCn…T6K1 \((unreachable\?|[A-Z_]+)\)/)
    assert.match(started.stdout, /10\.89\.0\.2\s+12D3KooWCn…T6K1\s+v0 \(failed\)\s+no path\n {2}12D3KooWCn…T6K1: cannot open a messenger stream/)
    const added = await runCli(['vpn', 'add', '12D3KooWRnhfNPCsy3ebbMpmhDw8EEKmSWH3C39qFtf5Mu7Ye6i3', '--data', data], 60_000)
    assert.is(added.code, 1, added.stdout + added.stderr)
    assert.match(added.stderr, /did not confirm their IP: .*12D3KooWRn…e6i3 \(/)
    const address = await ns.exec('ip', ['-o', 'addr', 'show', 'dev', 'dmsvpn0'])
    assert.match(address, /inet 10\.89\.0\.1\/24/)
    const user = await runCli(['status', '--json', '--data', data])
    assert.is(user.code, 0)
  } finally {
    child.kill('SIGTERM')
    await new Promise((resolve) => { if (child.exitCode != null) resolve(null); else child.once('exit', resolve) })
    await ns.delete()
    await rm(dir, { recursive: true, force: true })
  }
})

test.run()
