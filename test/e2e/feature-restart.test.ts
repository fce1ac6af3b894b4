import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { TestNodes, eventually, passes } from '../support/nodes.js'
import { swarm } from '../../runtime/swarm/swarm-service.js'
import { createEcho, echo } from '../support/echo-feature.js'
import { DmsError } from '../../runtime/errors.js'
import { join } from 'node:path'
import { createNamespace } from '../../runtime/netdev/netns.js'
import type { ComponentLogger, Logger } from '@libp2p/interface'

const nodes = new TestNodes()
test.after.each(async () => { await nodes.cleanup() })

/** Timers that keep the process alive (Node's own resource list; it leaves out unref'd ones). */
const timers = (): number => process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length

// Every interval set while this file runs and not cleared since, unref'd ones too (a denial summary, a heartbeat)
const intervals = new Set<unknown>()
const { setInterval: realSetInterval, clearInterval: realClearInterval, clearTimeout: realClearTimeout } = globalThis
globalThis.setInterval = ((...args: Parameters<typeof setInterval>) => { const timer = realSetInterval(...args); intervals.add(timer); return timer }) as typeof setInterval
globalThis.clearInterval = ((timer?: NodeJS.Timeout) => { intervals.delete(timer); realClearInterval(timer) }) as typeof clearInterval
globalThis.clearTimeout = ((timer?: NodeJS.Timeout) => { intervals.delete(timer); realClearTimeout(timer) }) as typeof clearTimeout

test('the swarm and an example feature work after each of stop → start → stop → start, with no timer or actor left from the run before', async () => {
  // features created with the node, reached typed as node.features.<name>
  const a = await nodes.create({ features: { swarm: swarm(), echo: echo() } })
  const b = await nodes.create({ features: { swarm: swarm({ rejoinWindowMs: 2000 }), echo: echo() } })
  const { swarm: swarmA, echo: echoA } = a.features
  const { swarm: swarmB, echo: echoB } = b.features
  await a.start()
  await b.start()
  const ownerAddress = (): string => a.status().host.addresses[0]!
  await swarmA.create([b.peerId])
  await swarmB.join(ownerAddress())

  for (let run = 1; run <= 3; run++) {
    // this run works: the member is on the private host, typed requests and remote actor events cross it
    await eventually(`run ${run}: b joined a's private swarm`, () => swarmB.status().state === 'joined' && swarmA.status().privatePeers.includes(b.peerId), 15_000)
    assert.equal(await b.request(a.peerId, 'echo', { run }), { run }, `run ${run}: a request crosses the private host`)
    await b.sendToActor(a.peerId, 'echo', { type: 'echo.poke' })
    await passes(() => { assert.is(echoA.actor?.getSnapshot().context.pokes, 1, `run ${run}: a fresh echo actor took one poke`) }, 5000)
    assert.is(echoA.actor?.getSnapshot().context.last, b.peerId)
    await eventually(`run ${run}: the echo heartbeat runs`, () => echoA.beats > 0 && echoB.beats > 0)
    if (run === 3) break

    await b.stop()
    await a.stop()
    // the hooks ran: nothing of the run is left to act
    assert.is(echoA.actor, undefined)
    const beats = echoA.beats
    await new Promise((resolve) => setTimeout(resolve, 150))
    assert.is(echoA.beats, beats, 'the stop hook cleared the heartbeat')
    assert.is(swarmA.status().role, 'none', 'a stopped node owns no running swarm')
    const started = Date.now()
    const err = await swarmA.rotate().then(() => undefined, (e: unknown) => e)
    assert.ok(err instanceof DmsError && err.code === 'NOT_OWNER', `a command after stop is refused (${String(err)})`)
    assert.ok(Date.now() - started < 1000, 'at once, not after the command timeout')
    // libp2p's own short timers (address debounce, a last heartbeat) run out within a second or so;
    // a feature's interval never would
    await passes(() => { assert.is(timers(), 0, 'no timer outlives the stopped nodes') }, 8000)
    assert.is(intervals.size, 0, 'no interval outlives the stopped nodes, unref\'d or not')

    await a.start()
    await b.start()
    assert.is((await swarmA.restore()).role, 'owner', `run ${run + 1}: the owner comes back from disk`)
    await swarmB.restore()
  }
  assert.is(echoA.answered, 3)
})

test('the VPN created with the node takes its device down at every stop and brings it back with restore()', async () => {
  if (process.getuid?.() !== 0) { assert.ok(true, 'needs root: skipped'); return }
  const ns = await createNamespace('dms-restart')
  try {
    const out = await ns.exec(process.execPath, ['--import', 'tsx', join(import.meta.dirname, '../support/vpn-restart.ts')], { timeoutMs: 60_000 })
    const steps = out.trim().split('\n').map((line) => JSON.parse(line) as { step: string, device: boolean, state: string, ip?: string })
    assert.equal(steps.map((s) => `${s.step}: ${s.device ? 'device' : 'no device'}, ${s.state}`), [
      'started: device, running', 'stopped 1: no device, stopped', 'restored 1: device, running', 'stopped 2: no device, stopped', 'restored 2: device, running', 'stopped: no device, stopped'
    ])
    assert.ok(steps.filter((s) => s.device).every((s) => s.ip === '10.91.0.1'), 'the same address after each restore')
  } finally {
    await ns.delete()
  }
})

test('a feature hook that throws is logged and the node still stops and starts', async () => {
  const lines: string[] = []
  // a ComponentLogger as an embedder gives one: every error line is kept
  const record = (name: string): Logger => Object.assign(() => {}, {
    error: (...args: unknown[]) => { lines.push(`${name}: ${args.map(String).join(' ')}`) },
    trace: () => {},
    enabled: true,
    newScope: (scope: string) => record(`${name}:${scope}`)
  })
  const logger: ComponentLogger = { forComponent: record }
  const node = await nodes.create({ logger })
  const { componentsOf } = await import('../../runtime/node-components.js')
  componentsOf(node).lifecycle.add({ name: 'broken', start: () => { throw new Error('no start') }, stop: () => { throw new Error('no stop') } })
  const echo = createEcho(node)
  await node.start()
  assert.ok(echo.actor != null, 'the feature after the broken one started')
  await node.stop()
  await node.start()
  assert.ok(echo.actor != null)
  assert.ok(lines.some((l) => l.startsWith('dms:node') && l.includes('broken') && l.includes('no start')), lines.join('\n'))
  assert.ok(lines.some((l) => l.includes('broken') && l.includes('no stop')), lines.join('\n'))
})

test('createNode refuses a logger without forComponent, and features that are not factories', async () => {
  const { createNode } = await import('../../runtime/node.js')
  assert.throws(() => createNode({ logger: {} as never }), /logger must have forComponent/)
  assert.throws(() => createNode({ features: { swarm: 'yes' } as never }), /features\.swarm must be a factory/)
  assert.throws(() => createNode({ features: [] as never }), /features must be an object of factories/)
})

test.run()
