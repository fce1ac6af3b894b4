// One process that attacks a victim node with every class of hostile input the
// security review found, for a bounded time, at bounded rates (docs/security.md).
// argv: a JSON object { victim: multiaddr with /p2p/, dataDir, inspector?, durationMs, root }.
// Prints one JSON line of counters when done.
import '../../actors/polyfill.js'
import { createConnection } from 'node:net'
import { request as httpRequest } from 'node:http'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { peerIdFromString } from '@libp2p/peer-id'
import { Packr } from 'msgpackr'
import { createNode } from '../../runtime/node.js'
import type { DmsNode } from '../../runtime/node.js'
import { MESSENGER_PROTOCOL } from '../../actors/wire/envelope.js'
import { encodeFrame } from '../../actors/wire/frames.js'
import { encodeValue } from '../../actors/wire/codec.js'
import { SWARM_KEY_PROTOCOL, createKeyRequest } from '../../runtime/swarm/key-exchange.js'
import { writeOne } from '../../actors/swarm/one-shot.js'
import { BID_REQUEST_TOPIC } from '../../actors/wire/bid-request.js'
import { controlSocketPath } from '../../runtime/control/protocol.js'
import { componentsOf } from '../../runtime/node-components.js'

const init = JSON.parse(process.argv[2]!) as { victim: string, dataDir: string, inspector?: string, durationMs: number, root: string }
const victimId = init.victim.split('/p2p/')[1]!
const deadline = Date.now() + init.durationMs
const counts: Record<string, number> = {}
const count = (what: string): void => { counts[what] = (counts[what] ?? 0) + 1 }
const sleep = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }

/** Run `attack` every `gapMs` until the deadline; failures are expected and counted. */
async function loop (name: string, gapMs: number, attack: () => Promise<void>): Promise<void> {
  while (Date.now() < deadline) {
    try { await attack(); count(name) } catch { count(`${name}.refused`) }
    await sleep(gapMs)
  }
}

const attackers: DmsNode[] = []
for (let i = 0; i < 4; i++) {
  const node = createNode({ dataDir: join(init.root, `attacker${i}`), bootstrap: [init.victim], dialTimeoutMs: 3000 })
  await node.start()
  attackers.push(node)
}
const victim = peerIdFromString(victimId)
const libp2p = (i: number) => componentsOf(attackers[i % attackers.length]!).hosts.libp2p('public')!

// values other versions or hostile peers write: 64-bit integers, extensions, deep nesting
const hostile = new Packr({ useRecords: false, moreTypes: true, useBigIntExtension: true })
let deep: unknown = 0
for (let i = 0; i < 200; i++) deep = [deep]
const hostileValues: unknown[] = [2n ** 63n, new Date(), new Set([1]), deep, { big: -(2n ** 62n) }]
const victimPort = Number(/\/tcp\/(\d+)/.exec(init.victim)![1])

/**
 * Hold `sockets` TCP sockets that never speak to the victim, from another address, renewing each one it
 * closes a second later (the slot-holding attack; a connection flood is another, for the OS to limit).
 */
async function idleSockets (sockets: number): Promise<void> {
  const open = (): void => {
    if (Date.now() >= deadline) return
    count('idleSockets')
    const socket = createConnection({ host: '127.0.0.1', port: victimPort, localAddress: '127.0.0.2' })
    socket.on('error', () => {})
    socket.on('close', () => { setTimeout(open, 1000) })
    setTimeout(() => { socket.destroy() }, Math.max(0, deadline - Date.now()))
  }
  for (let i = 0; i < sockets; i++) open()
  await sleep(Math.max(0, deadline - Date.now()))
}

const envelope = (kind: string, extra: Record<string, unknown> = {}): Uint8Array => encodeFrame(encodeValue({ v: 1, id: randomBytes(16).toString('hex'), kind, type: 'soak.evil', from: 'x', ts: Date.now(), body: { pad: 'x'.repeat(64) }, ...extra }))

await Promise.all([
  // one address holds 64 sockets that never speak (upgrade slots: docs/security.md)
  idleSockets(64),
  // int64, extensions and deep nesting as message bodies and in bid requests
  loop('hostileValues', 50, async () => {
    const value = hostileValues[Math.floor(Math.random() * hostileValues.length)]
    const stream = await libp2p(0).dialProtocol(victim, MESSENGER_PROTOCOL, { signal: AbortSignal.timeout(3000) })
    stream.send(encodeFrame(hostile.pack({ v: 1, id: randomBytes(8).toString('hex'), kind: 'req', type: 'soak.echo', from: 'x', ts: Date.now(), body: value })))
    await libp2p(0).services.pubsub.publish(BID_REQUEST_TOPIC, hostile.pack({ jobId: 'j', resources: { cpuCores: 1, memoryMb: 1 }, price: { max: 1, currency: 'X' }, deadline: Date.now() + 1000, requester: attackers[0]!.peerId, x: value })).catch(() => {})
    await sleep(20)
    await stream.close().catch(() => {})
  }),
  // version skew: requests of types this version does not know, and the stream closed under them
  loop('versionSkew', 50, async () => {
    const from = attackers[1]!
    await Promise.allSettled([from.request(victimId, 'soak.v2.only', {}, { timeoutMs: 2000 }), from.request(victimId, 'soak.echo', {}, { timeoutMs: 2000 })])
    for (const connection of libp2p(1).getConnections(victim)) for (const stream of connection.streams) if (stream.protocol === MESSENGER_PROTOCOL) await stream.close().catch(() => {})
  }),
  // key-exchange flood: signed requests from strangers, and garbage
  loop('keyRequests', 20, async () => {
    const from = attackers[Math.floor(Math.random() * attackers.length)]!
    const stream = await componentsOf(from).hosts.libp2p('public')!.dialProtocol(victim, SWARM_KEY_PROTOCOL, { signal: AbortSignal.timeout(3000) })
    if (Math.random() < 0.5) writeOne(stream, await createKeyRequest(componentsOf(from).identity.privateKey(), from.peerId, victimId, 'dms'))
    else stream.send(randomBytes(200))
    await sleep(50)
    stream.abort(new Error('done'))
  }),
  // slowloris: partial frames held open on many streams
  loop('slowloris', 200, async () => {
    const stream = await libp2p(1).dialProtocol(victim, MESSENGER_PROTOCOL, { signal: AbortSignal.timeout(3000) })
    stream.send(encodeFrame(new Uint8Array(1_000_000)).subarray(0, 200 * 1024))
    setTimeout(() => { stream.abort(new Error('done')) }, 12_000)
  }),
  // malformed and oversized frames
  loop('garbage', 50, async () => {
    const stream = await libp2p(2).dialProtocol(victim, MESSENGER_PROTOCOL, { signal: AbortSignal.timeout(3000) })
    stream.send(Math.random() < 0.5 ? encodeFrame(randomBytes(300)) : Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0x7f]))
    await sleep(20)
    stream.abort(new Error('done'))
  }),
  // forged replies with random ids, and messages of types nobody handles
  loop('forgedAndUnknown', 10, async () => {
    const stream = await libp2p(3).dialProtocol(victim, MESSENGER_PROTOCOL, { signal: AbortSignal.timeout(3000) })
    for (let i = 0; i < 10; i++) stream.send(envelope(i % 2 === 0 ? 'res' : 'msg', i % 2 === 0 ? { re: randomBytes(16).toString('hex') } : {}))
    await sleep(20)
    await stream.close().catch(() => {})
  }),
  // invalid bid requests on gossipsub
  loop('badBids', 100, async () => {
    await libp2p(0).services.pubsub.publish(BID_REQUEST_TOPIC, Math.random() < 0.5 ? randomBytes(100) : encodeValue({ jobId: '', requester: victimId }))
  }),
  // a local user: garbage on the control socket
  loop('controlGarbage', 50, async () => {
    await new Promise<void>((resolve, reject) => {
      const socket = createConnection(controlSocketPath(init.dataDir))
      socket.once('error', reject)
      socket.once('connect', () => {
        socket.write(['{"method":"__proto__"}', 'not json', '{"id":1,"method":"constructor"}', '[]', JSON.stringify({ id: 2, method: 'send', params: { peer: 'x' } })][Math.floor(Math.random() * 5)] + '\n')
        setTimeout(() => { socket.destroy(); resolve() }, 20)
      })
    })
  }),
  // a web page: requests to the inspector with a foreign Host, no token, a cross-site Origin
  loop('inspectorProbes', 50, async () => {
    if (init.inspector == null) return
    const url = new URL(init.inspector)
    await new Promise<void>((resolve, reject) => {
      const req = httpRequest({ host: url.hostname, port: url.port, path: Math.random() < 0.5 ? '/api/events' : `/api/events?token=wrong`, headers: { host: Math.random() < 0.5 ? 'evil.example:80' : url.host, origin: 'http://evil.example' } }, (res) => { res.resume(); res.once('end', resolve) })
      req.once('error', reject)
      req.end()
    })
  })
])

await Promise.allSettled(attackers.map(async (node) => { await node.stop() }))
process.stdout.write(`${JSON.stringify(counts)}\n`)
process.exit(0)
