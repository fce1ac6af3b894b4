import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createLan } from '../../runtime/netdev/lan.js'
import type { Lan } from '../../runtime/netdev/lan.js'
import { runCli, startDaemon } from '../support/cli.js'
import type { NodeStatus } from '../../runtime/events.js'

// A node told to listen on a public IP (here 11.78.0.x, inside namespaces this test makes) does not
// announce it until AutoNAT confirms it; it must still say where it listens, and mark the address.
let lan: Lan | undefined
const dirs: string[] = []
const daemons: Array<Awaited<ReturnType<typeof startDaemon>>> = []
test.after.each(async () => {
  for (const daemon of daemons.splice(0)) await daemon.stop().catch(() => {}) // best effort: the namespaces go next
  await lan?.destroy()
  lan = undefined
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true })
})

const cli = async (args: string[]): Promise<{ code: number, stdout: string }> => await runCli(args, 30_000)

test('a public listen address is shown as listening and unconfirmed, in the banner, status, --json and netcheck; peers can still dial it', async () => {
  lan = await createLan(2, { prefix: '11.78.0' })
  const [a, b] = lan.hosts as [Lan['hosts'][0], Lan['hosts'][0]]
  const dirA = await mkdtemp(join(tmpdir(), 'dms-listen-'))
  const dirB = await mkdtemp(join(tmpdir(), 'dms-listen-'))
  dirs.push(dirA, dirB)
  const nodeA = await startDaemon(['--data', dirA, '--listen', `/ip4/${a.ip}/tcp/4001`], { namespace: a.ns.name })
  daemons.push(nodeA)
  assert.match(nodeA.output(), new RegExp(`listening on /ip4/${a.ip.replace(/\./g, '\\.')}/tcp/4001[^\\n]*not announced until confirmed`))

  const status = JSON.parse((await cli(['status', '--json', '--data', dirA])).stdout) as NodeStatus
  const own = `/ip4/${a.ip}/tcp/4001/p2p/${nodeA.peerId}`
  assert.equal(status.host.listening, [own])
  assert.not.ok(status.host.addresses.includes(own), 'not announced before AutoNAT confirms it')

  const text = await cli(['status', '--data', dirA])
  assert.is(text.code, 0)
  assert.match(text.stdout, /addresses\s+\/ip4\/11\.78\.0\.1\/tcp\/4001 \(listening; not announced until confirmed\)/)
  for (const line of text.stdout.split('\n')) assert.ok(line.length <= 80, `80 columns: ${line}`)

  const check = await cli(['netcheck', '--data', dirA])
  const flat = check.stdout.replace(/\n\s+/g, ' ')
  assert.match(flat, /listens on \/ip4\/11\.78\.0\.1\/tcp\/4001, not announced until confirmed/)
  assert.match(flat, /--announce \/ip4\/11\.78\.0\.1\/tcp\/4001/)

  // the address works all the same: a peer given it connects
  const nodeB = await startDaemon(['--data', dirB, '--listen', `/ip4/${b.ip}/tcp/4001`, '--bootstrap', own], { namespace: b.ns.name })
  daemons.push(nodeB)
  const deadline = Date.now() + 15_000
  let peers: NodeStatus['peers'] = []
  while (Date.now() < deadline) {
    peers = (JSON.parse((await cli(['status', '--json', '--data', dirB])).stdout) as NodeStatus).peers
    if (peers.some((p) => p.peerId === nodeA.peerId && ['connected', 'identified'].includes(p.state))) break
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
  assert.ok(peers.some((p) => p.peerId === nodeA.peerId && ['connected', 'identified'].includes(p.state)), JSON.stringify(peers))
})

test.run()
