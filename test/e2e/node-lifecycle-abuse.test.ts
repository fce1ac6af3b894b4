// The node as a long-running embedder uses it: one node per data dir (another process's, a stale
// lock after SIGKILL), restarts that do not leak, departed peers forgotten, config typos refused,
// dial targets checked and dials abortable.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { spawn } from 'node:child_process'
import { createServer } from 'node:net'
import type { AddressInfo } from 'node:net'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { TestNodes, eventually } from '../support/nodes.js'
import { createNode } from '../../runtime/node.js'
import { DmsError } from '../../runtime/errors.js'
import { parseHolder, processStart } from '../../runtime/data-dir-lock.js'

const nodes = new TestNodes()
const dirs: string[] = []
test.after.each(async () => { await nodes.cleanup() })
test.after(async () => { await Promise.all(dirs.map(async (dir) => { await rm(dir, { recursive: true, force: true }) })) })
const root = fileURLToPath(new URL('../..', import.meta.url))

async function tempDir (): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'dms-lifecycle-'))
  dirs.push(dir)
  return dir
}

async function refused (work: Promise<unknown>, code: string, pattern?: RegExp): Promise<DmsError> {
  try {
    await work
  } catch (err) {
    assert.instance(err, DmsError)
    assert.is((err as DmsError).code, code, (err as Error).message)
    if (pattern != null) assert.match((err as Error).message, pattern)
    return err as DmsError
  }
  assert.unreachable(`expected ${code}`)
  throw new Error('unreachable')
}

test('two nodes on one data dir: the second is refused with DATA_DIR_LOCKED, in this process and from another', async () => {
  const dataDir = await tempDir()
  const first = await nodes.started({ dataDir })
  await refused(createNode({ dataDir }).start(), 'DATA_DIR_LOCKED', /another node of this process/)
  // another process: the daemon's own start, as an operator would run it
  const other = spawn(process.execPath, [join(root, 'bin/dms-net.js'), 'node', '--data', dataDir, '--listen', '/ip4/127.0.0.1/tcp/0'], { stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  other.stdout.on('data', (chunk) => { output += chunk })
  other.stderr.on('data', (chunk) => { output += chunk })
  const code = await new Promise<number | null>((resolve) => { other.on('close', resolve) })
  assert.is.not(code, 0)
  assert.match(output, new RegExp(`DATA_DIR_LOCKED|pid ${process.pid}|already running`))
  await first.stop()
  // released at stop: the data dir is free again
  const again = await nodes.started({ dataDir })
  assert.is(again.peerId, first.peerId)
})

test('a lock left by a SIGKILLed process is stale and taken over', async () => {
  const dataDir = await tempDir()
  const child = spawn(process.execPath, [join(root, 'bin/dms-net.js'), 'node', '--data', dataDir, '--listen', '/ip4/127.0.0.1/tcp/0', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout.on('data', (chunk) => { output += chunk })
  await eventually('the daemon runs', () => output.includes('node.running'), 30_000)
  assert.is(Number.parseInt(await readFile(join(dataDir, 'lock'), 'utf8'), 10), child.pid)
  child.kill('SIGKILL')
  await new Promise((resolve) => { child.on('close', resolve) })
  const node = await nodes.started({ dataDir })
  assert.is(Number.parseInt(await readFile(join(dataDir, 'lock'), 'utf8'), 10), process.pid)
  await node.stop()
  // a lock file naming a live process that is not a node still counts as held: refuse, naming it
  await writeFile(join(dataDir, 'lock'), `${process.ppid}\n`)
  await refused(createNode({ dataDir }).start(), 'DATA_DIR_LOCKED', new RegExp(`pid ${process.ppid}`))
  // with its start time, as this version writes it: still held
  const parentStart = processStart(process.ppid)!
  assert.match(parentStart, /^\d+$/)
  await writeFile(join(dataDir, 'lock'), `${process.ppid} ${parentStart}\n`)
  await refused(createNode({ dataDir }).start(), 'DATA_DIR_LOCKED', new RegExp(`pid ${process.ppid}`))
  // the same pid with another start time is a reused pid (a container restarted): stale, taken over
  await writeFile(join(dataDir, 'lock'), `${process.ppid} ${BigInt(parentStart) + 1n}\n`)
  const taken = await nodes.started({ dataDir })
  assert.equal(parseHolder(await readFile(join(dataDir, 'lock'), 'utf8')), { pid: process.pid, start: processStart(process.pid) })
  await taken.stop()
})

test('departed peers are forgotten after their TTL, and at most maxKnownPeers are kept', async () => {
  const hub = await nodes.started({ maxKnownPeers: 8, forgetPeersAfterMs: 1500 })
  const address = hub.status().host.addresses[0]!
  // 12 short-lived peers, each connects and goes
  for (let i = 0; i < 12; i++) {
    const visitor = await nodes.started()
    await visitor.dial(address)
    await eventually('the hub knows the visitor', () => hub.status().peers.some((p) => p.peerId === visitor.peerId && p.state !== 'disconnected'))
    await visitor.stop()
    await eventually('the visitor left', () => hub.status().peers.every((p) => p.peerId !== visitor.peerId || p.state === 'disconnected'))
    assert.ok(hub.status().peers.length <= 8, `${hub.status().peers.length} peers kept`)
  }
  await eventually('every departed peer forgotten', () => hub.status().peers.length === 0, 8000)
})

// Measured in a process of its own (the built package, as an embedder runs it): other tests' nodes
// would move this one's RSS.
const RESTARTS = `
  const { createNode } = await import(process.argv[1])
  const node = createNode({ dataDir: process.argv[2] })
  const measure = () => { gc(); gc(); const m = process.memoryUsage(); return { rss: m.rss / 2 ** 20, heap: m.heapUsed / 2 ** 20 } }
  let base
  for (let cycle = 1; cycle <= 300; cycle++) {
    await node.start()
    await node.stop()
    if (cycle === 50) base = measure()
  }
  console.log(JSON.stringify({ base, end: measure(), state: node.status().host.state }))
`

test('restarts do not leak: 300 start/stop cycles keep RSS and the heap flat after the first 50', async () => {
  const child = spawn(process.execPath, ['--expose-gc', '--input-type=module', '-e', RESTARTS, join(root, 'dist/runtime/index.js'), await tempDir()], { stdio: ['ignore', 'pipe', 'inherit'] })
  let output = ''
  child.stdout.on('data', (chunk) => { output += chunk })
  assert.is(await new Promise((resolve) => { child.on('close', resolve) }), 0)
  const { base, end, state } = JSON.parse(output) as { base: { rss: number, heap: number }, end: { rss: number, heap: number }, state: string }
  process.stdout.write(`    restarts 50 → 300: rss ${base.rss.toFixed(1)} → ${end.rss.toFixed(1)} MiB, heap ${base.heap.toFixed(1)} → ${end.heap.toFixed(1)} MiB\n`)
  // before the fix each cycle kept a whole libp2p node: 0.11 MiB of heap a cycle, 27 MiB over these 250
  // (what remains grows ever slower: 4.7 MiB of heap and 12 MiB of RSS after 1,000 cycles)
  assert.ok(end.heap - base.heap < 12, `heap grew ${(end.heap - base.heap).toFixed(1)} MiB over 250 cycles`)
  // RSS moves with the allocator and whatever else runs on the machine: the heap is the measure, RSS a bound
  assert.ok(end.rss - base.rss < 60, `rss grew ${(end.rss - base.rss).toFixed(1)} MiB over 250 cycles`)
  assert.is(state, 'stopped')
})

test('a stopped node delivers nothing, to itself neither', async () => {
  const node = await nodes.started()
  node.handle('self.echo', (body) => body)
  assert.is(await node.request(node.peerId, 'self.echo', 7), 7)
  await node.stop()
  await refused(node.request(node.peerId, 'self.echo', 8), 'NOT_ATTACHED')
  await refused(node.send(node.peerId, 'self.echo', 9), 'NOT_ATTACHED')
  await node.start()
  assert.is(await node.request(node.peerId, 'self.echo', 10), 10, 'restarted: delivered again')
})

test('config typos are refused, dial targets are checked, and a dial takes a timeout and an AbortSignal', async () => {
  assert.throws(() => createNode({ dataDir: '/tmp/x', listne: ['/ip4/127.0.0.1/tcp/0'] } as never), (err: DmsError) => err.code === 'CONFIG_INVALID' && /unknown option "listne"/.test(err.message))
  const node = await nodes.started()
  await refused(node.dial('/ip4/999.1.1.1/tcp/1'), 'BAD_ADDRESS')
  await refused(node.dial('/not-a-protocol/1'), 'BAD_ADDRESS')
  await refused(node.dial('12D3KooWnot-a-peer-id'), 'BAD_PEER_ID')
  await refused(node.dial('/ip4/127.0.0.1/tcp/1', { timeoutMs: 0 }), 'INVALID')
  await refused(node.dial('/ip4/127.0.0.1'), 'BAD_ADDRESS', /neither \/tcp\/<port> nor \/p2p\/<peer id>/)
  await refused(node.dial('/ip4/127.0.0.1/tcp/1', { network: 'bogus' as never }), 'INVALID', /network must be 'public' or 'private'/)
  for (const [field, value] of [['startTimeoutMs', -5], ['startTimeoutMs', 'abc'], ['inspect', 5], ['inspect', { next: 1 }]] as const) {
    assert.throws(() => createNode({ dataDir: '/tmp/x', [field]: value } as never), (err: DmsError) => err.code === 'CONFIG_INVALID' && err.message.includes(field))
  }
  // a subscription that could never be called is refused, not kept
  assert.throws(() => node.on('peer.conected' as never, () => {}), (err: DmsError) => err.code === 'INVALID' && /no event "peer.conected"/.test(err.message))
  assert.throws(() => node.on('peer.connected', 5 as never), (err: DmsError) => err.code === 'INVALID')
  // a listener that accepts and never speaks: the dial would wait for the handshake until its timeout
  const silent = createServer(() => {})
  await new Promise<void>((resolve) => { silent.listen(0, '127.0.0.1', resolve) })
  const target = `/ip4/127.0.0.1/tcp/${(silent.address() as AddressInfo).port}/p2p/${(await nodes.started()).peerId}`
  try {
    const controller = new AbortController()
    let started = Date.now()
    setTimeout(() => { controller.abort() }, 200)
    await refused(node.dial(target, { signal: controller.signal, timeoutMs: 20_000 }), 'ABORTED')
    assert.ok(Date.now() - started < 1500, `aborted after ${Date.now() - started} ms`)
    started = Date.now()
    await refused(node.dial(target, { timeoutMs: 300 }), 'DIAL_FAILED', /timed out/)
    assert.ok(Date.now() - started < 2000, `timed out after ${Date.now() - started} ms`)
  } finally {
    silent.close()
  }
  assert.is(node.status().host.state, 'running')
})

test.run()
