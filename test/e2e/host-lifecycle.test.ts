import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { createServer } from 'node:net'
import { TestNodes, eventually, recordEvents } from '../support/nodes.js'
import { DmsError } from '../../runtime/errors.js'

const nodes = new TestNodes()
test.after.each(async () => { await nodes.cleanup() })

async function busyPort (): Promise<{ port: number, close: () => void }> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  return { port, close: () => { server.close() } }
}

async function expectError (promise: Promise<unknown>, code: string, pattern: RegExp): Promise<void> {
  try {
    await promise
  } catch (err) {
    assert.instance(err, DmsError)
    assert.is((err as DmsError).code, code, (err as Error).message)
    assert.match((err as Error).message, pattern)
    return
  }
  assert.unreachable(`expected ${code}`)
}

test('start → running with addresses and events; stop → stopped; start again', async () => {
  const node = await nodes.create()
  const events = recordEvents(node)
  assert.is(node.status().host.state, 'idle')
  await node.start()
  const status = node.status()
  assert.is(status.host.state, 'running')
  assert.ok(status.host.addresses[0]?.startsWith('/ip4/127.0.0.1/tcp/'))
  assert.ok(status.host.addresses[0]?.endsWith(`/p2p/${node.peerId}`))
  const types = events.map((e) => e.type)
  assert.ok(types.includes('host.listening'), types.join())
  assert.ok(types.includes('host.started'))
  await node.stop()
  assert.ok(events.some((e) => e.type === 'host.stopped'))
  assert.is(node.status().host.state, 'stopped')
  const peerId = node.peerId
  await node.start()
  assert.is(node.status().host.state, 'running')
  assert.is(node.peerId, peerId, 'same identity after restart')
})

test('port in use: start fails with ADDRESS_IN_USE, in words, and the host is failed', async () => {
  const busy = await busyPort()
  try {
    const node = await nodes.create({ listen: [`/ip4/127.0.0.1/tcp/${busy.port}`] })
    await expectError(node.start(), 'ADDRESS_IN_USE', /address already in use/)
    assert.is(node.status().host.state, 'failed')
    assert.match(node.status().host.error ?? '', /address already in use/)
  } finally {
    busy.close()
  }
})

test('operations while not running answer at once with HOST_NOT_RUNNING', async () => {
  const node = await nodes.create()
  await expectError(node.dial('12D3KooWJDZZFijhQEokzmpfKcEZJEtMrW7yZBnNftJQrzjZh1Mb'), 'HOST_NOT_RUNNING', /not started/)
  await node.init()
  const started = Date.now()
  await expectError(node.dial('12D3KooWJDZZFijhQEokzmpfKcEZJEtMrW7yZBnNftJQrzjZh1Mb'), 'HOST_NOT_RUNNING', /not running \(state "configured"\)/)
  await expectError(node.listen('/ip4/127.0.0.1/tcp/0'), 'HOST_NOT_RUNNING', /not running/)
  assert.ok(Date.now() - started < 500, 'no hang')
})

test('stop called while starting wins: the node ends stopped, not running', async () => {
  const node = await nodes.create()
  const starting = node.start()
  const stopping = node.stop()
  await starting
  await stopping
  assert.is(node.status().host.state, 'stopped')
})

test('the host machine itself: stop while creating goes to stopped, never running', async () => {
  const node = await nodes.create()
  await node.init()
  const host = node.actor!.system.get('host.public')!
  const seen: string[] = []
  host.subscribe((s: { value: unknown }) => { seen.push(JSON.stringify(s.value)) })
  host.send({ type: 'host.start' })
  host.send({ type: 'host.stop' })
  await eventually('host stopped', () => seen.at(-1) === '"stopped"')
  assert.not.ok(seen.some((v) => v.includes('running')), seen.join(' '))
})

test('dial: by multiaddr, then by peer id; errors are explained', async () => {
  const a = await nodes.started()
  const b = await nodes.started()
  const result = await b.dial(a.status().host.addresses[0]!)
  assert.is(result.peerId, a.peerId)
  assert.is(result.alreadyConnected, undefined, 'a new connection')
  const again = await b.dial(a.peerId)
  assert.equal([again.peerId, again.remoteAddr, again.alreadyConnected], [a.peerId, result.remoteAddr, true], 'by id: the connection it had')
  await expectError(b.dial(b.peerId), 'BAD_PEER_ID', /this node's own id/)
  const free = await busyPort()
  free.close()
  await expectError(b.dial(`/ip4/127.0.0.1/tcp/${free.port}/p2p/12D3KooWJDZZFijhQEokzmpfKcEZJEtMrW7yZBnNftJQrzjZh1Mb`), 'DIAL_FAILED', /refused/)
  await expectError(b.dial('12D3KooWJDZZFijhQEokzmpfKcEZJEtMrW7yZBnNftJQrzjZh1Mb'), 'DIAL_FAILED', /no known address|No valid addresses|dial/i)
  await expectError(b.dial('not-a-peer'), 'BAD_PEER_ID', /not a peer id: "not-a-peer" \(peer ids look like 12D3KooW/)
  assert.is(b.status().host.state, 'running', 'the node survives bad dials')
})

test('listen adds an address at run time; a bad address is refused', async () => {
  const node = await nodes.started()
  const before = node.status().host.addresses.length
  const addresses = await node.listen('/ip4/127.0.0.1/tcp/0')
  assert.is(addresses.length, before + 1)
  await eventually('status shows the new address', () => node.status().host.addresses.length === before + 1)
  await expectError(node.listen('/ip4/192.0.2.1/tcp/0'), 'LISTEN_FAILED', /./)
  await expectError(node.listen('/ip4/127.0.0.1/udp/0/quic-v1'), 'BAD_ADDRESS', /listens on TCP only \(no udp\)/)
  assert.is(node.status().host.state, 'running')
})

test('restart builds a new host with the same identity and services come back', async () => {
  const node = await nodes.started()
  const host = node.actor!.system.get('host.public')!
  const ready = new Promise<void>((resolve) => { const s = node.actor!.on('node.ready', () => { s.unsubscribe(); resolve() }) })
  host.send({ type: 'host.restart' })
  await ready
  assert.is(node.status().host.state, 'running')
  assert.ok(node.status().host.addresses[0]?.endsWith(node.peerId))
})

test('stop during a restart wins: the host ends stopped and does not come back', async () => {
  const node = await nodes.started()
  const host = node.actor!.system.get('host.public')!
  host.send({ type: 'host.restart' })
  host.send({ type: 'host.stop' })
  await eventually('host stopped', () => (host.getSnapshot() as { value: unknown }).value === 'stopped')
  await new Promise((resolve) => setTimeout(resolve, 200))
  assert.is((host.getSnapshot() as { value: unknown }).value, 'stopped')
})

test.run()
