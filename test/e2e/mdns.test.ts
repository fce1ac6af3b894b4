// test-needs: ip
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createLan } from '../../runtime/netdev/lan.js'
import { runCli, startDaemon } from '../support/cli.js'
import { passes } from '../support/nodes.js'
import type { NodeStatus } from '../../runtime/events.js'

const isRoot = process.getuid?.() === 0

test('mDNS on a LAN: two nodes that were told nothing find each other, and one dials the other by id', async () => {
  if (!isRoot) { assert.ok(true, 'needs root for namespaces: skipped'); return }
  const lan = await createLan(3, { prefix: '10.78.0' })
  const dir = await mkdtemp(join(tmpdir(), 'dms-mdns-'))
  const daemons: Array<Awaited<ReturnType<typeof startDaemon>>> = []
  try {
    // the third host runs a node without mDNS: it must stay unfound
    for (const [i, host] of lan.hosts.entries()) {
      // a LAN host has a route for multicast (usually its default route)
      await host.ns.exec('ip', ['route', 'add', '224.0.0.0/4', 'dev', 'lan0'])
      daemons.push(await startDaemon(['--data', join(dir, `n${i}`), '--listen', `/ip4/${host.ip}/tcp/4001`, ...(i < 2 ? ['--mdns'] : [])], { namespace: host.ns.name }))
    }
    const status = async (i: number): Promise<NodeStatus> => JSON.parse((await runCli(['status', '--json', '--data', join(dir, `n${i}`)])).stdout) as NodeStatus
    await passes(async () => {
      for (const i of [0, 1]) assert.is((await status(i)).discovery[0]!.found.mdns, 1, `node ${i} found the other by mDNS`)
    }, 20_000)
    const dialled = await runCli(['dial', daemons[1]!.peerId, '--data', join(dir, 'n0')])
    assert.is(dialled.code, 0, dialled.stderr)
    assert.match(dialled.stdout, new RegExp(`/ip4/${lan.hosts[1]!.ip}/tcp/4001`))
    const third = await status(2)
    assert.is(third.discovery[0]!.found.mdns, 0)
    assert.equal(third.discovery[0]!.mechanisms, [])
  } finally {
    await Promise.allSettled(daemons.map(async (d) => await d.stop()))
    await lan.destroy()
    await rm(dir, { recursive: true, force: true })
  }
})

test.run()
