// A hostile peer sends every kind of msgpack value (int64, extensions, deep nesting, huge maps,
// __proto__ keys, dates, sets) as a request body, a one-way message, a reply, a bid request, a swarm
// key-exchange message and a VPN table, to a real daemon whose every sink runs: `jobs --follow`,
// `events --json`, `receive`, the inspector's live stream, and the daemon's own JSON log. The daemon
// never exits, and every sink prints.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { get } from 'node:http'
import { Packr } from 'msgpackr'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2pNode } from '../../actors/libp2p-node.js'
import type { DmsLibp2p } from '../../actors/libp2p-node.js'
import { MESSENGER_PROTOCOL } from '../../actors/wire/envelope.js'
import { BID_REQUEST_TOPIC } from '../../actors/wire/bid-request.js'
import { FrameDecoder, encodeFrame } from '../../actors/wire/frames.js'
import { SWARM_KEY_PROTOCOL } from '../../runtime/swarm/key-exchange.js'
import { runCli, startCli, startDaemon } from '../support/cli.js'
import type { RunningCli } from '../support/cli.js'
import { passes } from '../support/nodes.js'

// a sender that writes what msgpack can hold, and what msgpackr adds: BigInt, Date, Set, Map, RegExp, Error
const hostile = new Packr({ useRecords: false, moreTypes: true, useBigIntExtension: true })
// envelopes themselves are plain maps: the body is where the hostile bytes go
const plain = new Packr({ useRecords: false })

let deep: unknown = 'bottom'
for (let i = 0; i < 500; i++) deep = [deep]
const hugeMap = Object.fromEntries(Array.from({ length: 20_000 }, (_, i) => [`k${i}`, i]))
/** Values, and raw msgpack bytes, that have broken decoders and printers. */
const values: Array<[string, unknown]> = [
  ['uint64', 2n ** 63n], ['int64', -(2n ** 62n)], ['a huge BigInt', 2n ** 200n], ['a date', new Date(0)], ['a set', new Set([1, 2])],
  ['a regexp', /x+/g], ['an error', new Error('boom')], ['nesting 500 deep', deep], ['a 20,000-key map', hugeMap],
  ['a __proto__ key', JSON.parse('{"__proto__": {"polluted": true}, "constructor": {"prototype": {"polluted": true}}}')],
  ['typed arrays', { f: new Float64Array([1.5, Number.NaN]), u: new Uint16Array([1, 2]) }], ['a safe value', { hello: 'world', n: 1 }]
]
const rawBodies: Array<[string, Uint8Array]> = [
  ['an unknown extension', new Uint8Array([0xd4, 0x05, 0x01])], ['timestamp extension', new Uint8Array([0xd6, 0xff, 0, 0, 0, 1])],
  ['a reserved byte', new Uint8Array([0xc1])], ['an array claiming 4 billion items', new Uint8Array([0xdd, 0xff, 0xff, 0xff, 0xff])]
]

/** An envelope (a msgpack map, written field by field) around a body given as raw msgpack bytes. */
function envelopeBytes (kind: string, type: string, id: string, body: Uint8Array, re?: string): Uint8Array {
  const fields: Array<[string, unknown]> = [['v', 1], ['id', id], ['kind', kind], ['type', type], ['from', 'x'], ['ts', Date.now()], ...(re != null ? [['re', re] as [string, unknown]] : [])]
  const parts = fields.flatMap(([key, value]) => [plain.pack(key), plain.pack(value)])
  return new Uint8Array(Buffer.concat([Uint8Array.of(0x80 | (fields.length + 1)), ...parts, plain.pack('body'), body]))
}

let root = ''
let daemon: Awaited<ReturnType<typeof startDaemon>>
let attacker: DmsLibp2p
const sinks: RunningCli[] = []
let inspectorText = ''

test.before(async () => {
  root = await mkdtemp(join(tmpdir(), 'dms-hostile-values-'))
  daemon = await startDaemon(['--data', root, '--listen', '/ip4/127.0.0.1/tcp/0', '--json', '--inspect', '0'])
  // the inspector's line follows the control socket's
  await passes(() => { assert.match(daemon.output(), /"inspector"/) }, 10_000)
  const address = /"addresses":\["([^"]+)"/.exec(daemon.output())![1]!
  const inspectorUrl = /"url":"([^"]+)"/.exec(daemon.output())![1]!
  // the inspector's live stream stays open through the attack
  const url = new URL(inspectorUrl)
  get({ host: url.hostname, port: url.port, path: `/api/events${url.search}`, headers: { host: url.host } }, (res) => { res.on('data', (chunk) => { inspectorText += chunk }) })
  assert.is((await runCli(['swarm', 'create', '--data', root])).code, 0)
  sinks.push(startCli(['jobs', '--follow', '--json', '--data', root]))
  sinks.push(startCli(['events', '--json', '--data', root]))
  sinks.push(startCli(['receive', 'hostile.type', '--json', '--data', root]))
  await new Promise((resolve) => setTimeout(resolve, 1000))
  attacker = await createLibp2pNode({ privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'] })
  await attacker.start()
  attacker.services.pubsub.subscribe(BID_REQUEST_TOPIC)
  await attacker.dial(multiaddr(address))
})

test.after(async () => {
  for (const sink of sinks) await sink.stop()
  await attacker?.stop()
  await daemon?.stop()
  await rm(root, { recursive: true, force: true })
})

test('hostile bodies in requests, messages and VPN tables: refused or printed, never a crash', async () => {
  const stream = await attacker.dialProtocol(peerIdFromString(daemon.peerId), MESSENGER_PROTOCOL)
  const replies: unknown[] = []
  const decoder = new FrameDecoder(1 << 20)
  stream.addEventListener('message', (event) => { for (const frame of decoder.push(event.data.subarray())) replies.push(plain.unpack(frame)) })
  let n = 0
  const bodies: Array<[string, Uint8Array]> = [...values.map(([name, value]): [string, Uint8Array] => [name, hostile.pack(value)]), ...rawBodies]
  for (const [, body] of bodies) {
    for (const [kind, type] of [['req', 'hostile.type'], ['msg', 'hostile.type'], ['req', 'vpn.table'], ['msg', 'no.such.type']]) {
      stream.send(encodeFrame(envelopeBytes(kind!, type!, `h${n++}`, body)))
    }
  }
  // every request got an answer on the same stream: a reply, or an error naming why
  await passes(() => { assert.ok(replies.length >= bodies.length * 2, `${replies.length} replies`) }, 15_000)
  assert.is(stream.status, 'open', 'the stream survived every bad envelope')
  assert.is(daemon.child.exitCode, null)
})

test('hostile replies to the daemon\'s own request: the CLI and the daemon both live', async () => {
  let answer = 0
  await attacker.handle(MESSENGER_PROTOCOL, (stream) => {
    const decoder = new FrameDecoder(1 << 20)
    stream.addEventListener('message', (event) => {
      for (const frame of decoder.push(event.data.subarray())) {
        const request = plain.unpack(frame) as { id: string }
        const [, body] = [...values, ...rawBodies.map(([name, bytes]) => [name, bytes] as const)][answer++ % (values.length + rawBodies.length)]!
        const bytes = body instanceof Uint8Array && rawBodies.some(([, raw]) => raw === body) ? body : hostile.pack(body)
        stream.send(encodeFrame(envelopeBytes('res', 'hostile.ask', `r${answer}`, bytes, request.id)))
      }
    })
  }, { force: true })
  for (let i = 0; i < values.length + rawBodies.length; i++) {
    const result = await runCli(['send', attacker.peerId.toString(), 'hostile.ask', '{}', '--request', '--timeout', '1000', '--data', root], 20_000)
    assert.ok(result.stdout.length + result.stderr.length > 0, 'the CLI says something')
    assert.not.match(result.stderr, /TypeError|serialize a BigInt|Unhandled/i)
  }
  assert.is(daemon.child.exitCode, null)
})

test('hostile bid requests and key-exchange messages: dropped and reported; a good bid with unknown fields is printed without them', async () => {
  const publish = async (bytes: Uint8Array): Promise<void> => {
    await attacker.services.pubsub.publish(BID_REQUEST_TOPIC, bytes).catch(() => {})
  }
  await passes(() => { assert.ok(attacker.services.pubsub.getSubscribers(BID_REQUEST_TOPIC).length > 0, 'the daemon subscribes') }, 10_000)
  const bid = { jobId: 'hostile-job', resources: { cpuCores: 1, memoryMb: 64 }, price: { max: 1, currency: 'NTX' }, deadline: Date.now() + 60_000, requester: attacker.peerId.toString() }
  for (const [, value] of values) await publish(hostile.pack({ ...bid, x: value }))
  for (const [, raw] of rawBodies) await publish(raw)
  await publish(hostile.pack({ ...bid, jobId: 'good-job', extra: 'a newer version wrote this' }))
  for (const [, value] of values) {
    const stream = await attacker.dialProtocol(peerIdFromString(daemon.peerId), SWARM_KEY_PROTOCOL).catch(() => undefined)
    try { stream?.send(encodeFrame(hostile.pack(value))) } catch { /* the daemon closed it first: also fine */ }
  }
  await passes(() => { assert.match(sinks[0]!.stdout(), /good-job/) }, 10_000)
  assert.not.match(sinks[0]!.stdout(), /newer version/)
  // a hostile-job whose extra field was plain data arrives too, but no job carries a field the validator does not know
  assert.not.match(sinks[0]!.stdout(), /"x":/)
})

test('every sink printed, and the daemon still answers', async () => {
  const [jobs, events, receive] = sinks
  await passes(() => {
    assert.match(events!.stdout(), /messenger\.error/)
    assert.match(receive!.stdout(), /hostile\.type/)
    assert.match(daemon.output(), /messenger\.error/)
    assert.ok(inspectorText.length > 0)
  }, 10_000)
  for (const sink of [jobs!, events!, receive!]) assert.is(await Promise.race([sink.exited, new Promise((resolve) => setTimeout(() => { resolve('running') }, 100))]), 'running', sink.stderr())
  for (const line of events!.stdout().trim().split('\n')) JSON.parse(line)
  const status = await runCli(['status', '--data', root])
  assert.is(status.code, 0, status.stderr)
  assert.is(daemon.child.exitCode, null)
  assert.is(({} as Record<string, unknown>).polluted, undefined)
})

test.run()
