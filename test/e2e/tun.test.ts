// test-needs: ip ping
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { createNamespace, listNamespaces } from '../../runtime/netdev/netns.js'
import type { Namespace } from '../../runtime/netdev/netns.js'
import { openTun, TunUnavailableError } from '../../actors/tun/tun-device.js'

const echo = fileURLToPath(new URL('../support/tun-echo.ts', import.meta.url))
const hostile = fileURLToPath(new URL('../support/tun-hostile.ts', import.meta.url))
const isRoot = process.getuid?.() === 0

test('a TUN device inside a test namespace: real ping is answered by our code through the device', async () => {
  if (!isRoot) { assert.ok(true, 'needs root: skipped'); return }
  const ns: Namespace = await createNamespace('dms-tun')
  const child = spawn('ip', ['netns', 'exec', ns.name, process.execPath, '--import', 'tsx', echo], { stdio: ['ignore', 'pipe', 'inherit'] })
  try {
    let output = ''
    child.stdout.on('data', (chunk) => { output += chunk })
    const deadline = Date.now() + 20_000
    while (!output.includes('ready')) {
      if (Date.now() > deadline || child.exitCode != null) throw new Error(`echo did not start: ${output}`)
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    const link = await ns.exec('ip', ['-o', 'link', 'show', 'dmstun0'])
    assert.match(link, /mtu 1400/)
    const ping = await ns.exec('ping', ['-c', '5', '-i', '0.2', '-W', '2', '10.99.0.7'], { timeoutMs: 20_000 })
    assert.match(ping, /5 packets transmitted, 5 received/)
    child.kill('SIGTERM')
    await new Promise((resolve) => child.once('exit', resolve))
    assert.match(output, /answered [5-9]/)
  } finally {
    if (child.exitCode == null) child.kill('SIGKILL')
    await ns.delete()
  }
  assert.not.ok((await listNamespaces()).includes(ns.name), 'the namespace is gone')
})

test('offloads: hostile super-packets are refused before the kernel sees them, random bytes do no harm, the device still works', async () => {
  if (!isRoot) { assert.ok(true, 'needs root: skipped'); return }
  const ns: Namespace = await createNamespace('dms-tun')
  try {
    const output = await ns.exec(process.execPath, ['--import', 'tsx', hostile], { timeoutMs: 30_000 })
    const result = JSON.parse(output.trim().split('\n').at(-1)!) as { offload: boolean, refusals: number, refusedWritten: number, taken: number, reset: boolean, echoReply: boolean }
    assert.is(result.offload, true, 'the kernel took TUNSETOFFLOAD')
    assert.ok(result.refusals > 100, `${result.refusals} hostile super-packets generated`)
    assert.is(result.refusedWritten, 0, 'none of them reached the kernel')
    assert.is(result.taken, 2, 'a valid super-packet and a ping request were written')
    assert.ok(result.reset, 'the kernel took the 4-segment super-packet and answered it with a reset')
    assert.ok(result.echoReply, 'and still answers a ping')
  } finally {
    await ns.delete()
  }
})

test('bad input: a name that is too long is refused clearly', async () => {
  if (!isRoot) { assert.ok(true, 'needs root: skipped'); return }
  try {
    await openTun({ name: 'a-name-that-is-far-too-long' })
    assert.unreachable()
  } catch (err) {
    assert.not.instance(err, TunUnavailableError)
    assert.match((err as Error).message, /too long/)
  }
})

test.run()
