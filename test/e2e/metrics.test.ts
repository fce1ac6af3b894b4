import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Registry } from 'prom-client'
import { TestNodes, passes } from '../support/nodes.js'
import { runCli, startCli } from '../support/cli.js'
import { createSwarm } from '../../runtime/swarm/swarm-service.js'

const nodes = new TestNodes()
test.after.each(async () => { await nodes.cleanup() })

/** The value of one sample line (`name{labels} value`) of a Prometheus text exposition, or undefined. */
function sample (text: string, name: string, labels = ''): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels === '' ? '' : `{${labels}}`} `) || (labels === '' && l.startsWith(`${name}{`)))
  return line == null ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1))
}

/** The sum of every sample whose line starts with `prefix`. */
const sum = (text: string, prefix: string): number => text.split('\n').filter((l) => l.startsWith(prefix)).reduce((total, l) => total + Number(l.slice(l.lastIndexOf(' ') + 1)), 0)

test('a node\'s metrics follow its traffic: connections, messenger frames and errors, request latency by outcome, swarm, process', async () => {
  const a = await nodes.started({ metrics: { process: true } })
  const b = await nodes.started()
  b.handle('echo', (body) => body)
  const swarm = createSwarm(await nodes.create())
  const before = await a.metrics.text()
  assert.is(sample(before, 'dms_messenger_request_seconds_count', 'outcome="ok"'), undefined, 'no request yet')
  await a.dial(b.status().host.addresses[0]!)
  for (let i = 0; i < 3; i++) await a.request(b.peerId, 'echo', { i })
  await a.request(b.peerId, 'no.such.type', {}).catch(() => {}) // refused by b: counted below
  const text = await a.metrics.text()
  assert.is(sample(text, 'dms_messenger_request_seconds_count', 'outcome="ok"'), 3)
  assert.is(sample(text, 'dms_messenger_request_seconds_count', 'outcome="REMOTE_ERROR"'), 1)
  assert.ok(sample(text, 'dms_messenger_request_seconds_bucket', 'le="10",outcome="ok"') === 3)
  assert.ok((sample(text, 'dms_messenger_frames_total', 'network="public",direction="out"') ?? 0) >= 4)
  assert.ok((sample(text, 'dms_messenger_bytes_total', 'network="public",direction="in"') ?? 0) > 0)
  assert.is(sample(text, 'dms_connections', 'network="public",direction="outbound",path="direct"'), 1)
  assert.is(sample(text, 'dms_streams', 'network="public",protocol="/dms/msg/1.0.0"'), 1, 'one messenger channel, counted by protocol')
  assert.is(sum(text, 'dms_peers{network="public",'), 1, 'one peer, connected or identified')
  assert.ok(sample(text, 'process_resident_memory_bytes') != null, 'process metrics: RSS')
  assert.ok(text.includes('nodejs_eventloop_lag_seconds'), 'process metrics: event-loop lag')
  assert.match(text, /# TYPE dms_messenger_errors_total counter/)
  assert.is(sample(text, 'dms_jobs_received_total'), 0)
  // a bid request b publishes is counted on a once the gossipsub mesh carries it
  await passes(async () => {
    await b.publishJob({ jobId: 'job-1', resources: { cpuCores: 1, memoryMb: 64 }, price: { max: 1, currency: 'DMS' }, deadline: Date.now() + 60_000 }).catch(() => {}) // no mesh yet: tried again
    assert.ok((sample(await a.metrics.text(), 'dms_jobs_received_total') ?? 0) >= 1)
  }, 15_000)
  const received = await b.metrics.text()
  assert.ok((sample(received, 'dms_messenger_errors_total', 'network="public",code="UNKNOWN_TYPE"') ?? 0) >= 1, received.split('\n').filter((l) => l.startsWith('dms_messenger_errors')).join('\n'))
  assert.ok(swarm != null)
})

test('an embedder\'s registry gets the node\'s metrics; the swarm adds its own', async () => {
  const registry = new Registry()
  const owner = await nodes.create({ metrics: { registry } })
  const member = await nodes.started()
  const swarm = createSwarm(owner)
  await owner.start()
  assert.is(sample(await registry.metrics(), 'dms_swarm_epoch', 'role="none"'), 0)
  await swarm.create([member.peerId])
  const text = await registry.metrics()
  assert.is(sample(text, 'dms_swarm_epoch', 'role="owner"'), 1)
  assert.is(sample(text, 'dms_swarm_authorised'), 1)
  assert.is(sample(text, 'process_resident_memory_bytes'), undefined, 'process metrics only when asked for')
  // a node stopped and started again reports its new hosts, not stale ones
  await owner.stop()
  assert.is(sample(await registry.metrics(), 'dms_connections'), undefined)
  await owner.start()
  assert.ok((await registry.metrics()).includes('dms_gossipsub_mesh_peers'))
})

test('two nodes given one registry: the second refuses to start and says why, registering nothing; the first runs on', async () => {
  const registry = new Registry()
  const first = await nodes.create({ metrics: { registry } })
  const second = await nodes.create({ metrics: { registry, process: true } })
  await first.start()
  assert.ok((await first.metrics.text()).includes('dms_connections'))
  const refusal = /could not be registered: .*already been registered.*give each node its own registry/
  let code = ''
  try { await second.start() } catch (err) { code = `${(err as { code?: string }).code}: ${(err as Error).message}` }
  assert.match(code, /^CONFIG_INVALID: /)
  assert.match(code, refusal)
  assert.is(second.status().host.state, 'idle', 'the second node did not start')
  let error = ''
  try { await second.metrics.text() } catch (err) { error = (err as Error).message }
  assert.match(error, refusal)
  // all or nothing: the second node's process metrics did not go in either
  assert.is(sample(await registry.metrics(), 'process_resident_memory_bytes'), undefined)
  assert.ok(first.status().host.state === 'running')
})

test('createNode refuses metrics options it does not know', async () => {
  const { createNode } = await import('../../runtime/node.js')
  for (const metrics of [5, null, { registry: {} }, { process: 'yes' }, { prometheus: true }]) {
    assert.throws(() => createNode({ metrics: metrics as never }), /metrics takes \{ registry/)
  }
})

test('dms-net node --metrics serves Prometheus text on loopback only; bad addresses are refused', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dms-metrics-'))
  const daemon = startCli(['node', '--data', dir, '--json', '--metrics', '127.0.0.1:0'])
  try {
    const line = await daemon.waitFor(/"node\.running".*\n/, 30_000)
    const running = JSON.parse(line.split('\n').find((l) => l.includes('"node.running"'))!) as { peerId: string, metrics: string, addresses: string[] }
    assert.match(running.metrics, /^http:\/\/127\.0\.0\.1:\d+\/metrics$/)
    // a peer talks to the daemon: its metrics count the frames and the inbound connection
    const peer = await nodes.started()
    await peer.dial(running.addresses[0]!)
    await peer.request(running.peerId, 'no.such.type', {}).catch(() => {}) // refused: counted by the daemon
    const scraped = await fetch(running.metrics)
    assert.is(scraped.status, 200)
    assert.match(scraped.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/)
    const text = await scraped.text()
    assert.ok((sample(text, 'dms_messenger_frames_total', 'network="public",direction="in"') ?? 0) >= 1, text.slice(0, 400))
    assert.is(sample(text, 'dms_connections', 'network="public",direction="inbound",path="direct"'), 1)
    assert.ok(sample(text, 'process_resident_memory_bytes') != null, 'the daemon adds the process\'s RSS')
    assert.is((await fetch(running.metrics.replace('/metrics', '/'))).status, 404)
    assert.is((await fetch(running.metrics, { method: 'POST' })).status, 405)
    // DNS rebinding: a page whose own name now points at 127.0.0.1 sends that name as Host
    const { request } = await import('node:http')
    const rebound = await new Promise<number>((resolve, reject) => {
      request(running.metrics, { headers: { host: 'evil.example:80' } }, (res) => { res.resume(); resolve(res.statusCode ?? 0) }).on('error', reject).end()
    })
    assert.is(rebound, 421)
  } finally {
    await daemon.stop()
    await rm(dir, { recursive: true, force: true })
  }
  for (const [value, reason] of [['0.0.0.0:9464', /loopback address only/], ['10.1.2.3:9464', /loopback address only/], ['nine', /takes \[HOST:\]PORT/], ['127.0.0.1:70000', /takes \[HOST:\]PORT/]] as const) {
    const result = await runCli(['node', '--data', join(tmpdir(), 'dms-metrics-never'), '--metrics', value])
    assert.is(result.code, 2, `${value}: ${result.stderr}`)
    assert.match(result.stderr, reason)
  }
})

test.run()
