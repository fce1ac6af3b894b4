import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { lpStream } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import type { PrivateKey } from '@libp2p/interface'
import { createNode } from '../../runtime/node.js'
import type { DmsNode } from '../../runtime/node.js'
import { createLibp2pNode } from '../../actors/libp2p-node.js'
import type { DmsLibp2p } from '../../actors/libp2p-node.js'
import { parseDiscovery } from '../../runtime/discovery/config.js'
import { HOLE_PUNCH_PROTOCOL } from '../../actors/discovery/hole-punch-wire.js'
import { MAX_PROBES } from '../../actors/discovery/punch-budget.js'
import { passes } from '../support/nodes.js'

// A peer that reaches a node through a relay and abuses /dms/holepunch/1.0.0: malformed, oversized and
// out-of-order frames, an address that would make the node send SYNs to a loopback service, a flood of
// punches; and the same protocol over a direct connection. All on 127.0.0.1 (the node's STUN server does
// not exist: its probe fails fast, which is all these attacks need).

let root = ''
let relay: DmsNode
let victim: DmsNode
const attackers: DmsLibp2p[] = []
const failures: string[] = []

/** A libp2p node with the relay transport whose peer id sorts before `than`'s (so `than` never opens a punch to it). */
async function attacker (than: string): Promise<DmsLibp2p> {
  let key: PrivateKey | undefined
  // a victim whose id sorts near the bottom leaves few lower ids: keep drawing (under 0.1 ms a key)
  for (let i = 0; i < 20_000 && key == null; i++) {
    const candidate = await generateKeyPair('Ed25519')
    if (peerIdFromPrivateKey(candidate).toString() < than) key = candidate
  }
  const node = await createLibp2pNode({ privateKey: key!, listen: ['/ip4/127.0.0.1/tcp/0'], discovery: parseDiscovery({ relayClient: true }, []) })
  await node.start()
  attackers.push(node)
  return node
}

const relayedAddress = (): string => `${relay.status().host.addresses[0]!}/p2p-circuit/p2p/${victim.peerId}`

/** Open the hole punch protocol on the victim, through the relay; frames are length-prefixed. */
async function punchStream (from: DmsLibp2p) {
  const connection = await from.dial(multiaddr(relayedAddress()))
  const stream = await connection.newStream(HOLE_PUNCH_PROTOCOL, { runOnLimitedConnection: true })
  return { stream, lp: lpStream(stream, { maxDataLength: 64 * 1024 }) }
}

/** Whether the victim answers on the stream within 5 s (false: it closed or reset the stream); its STUN probe comes first, slow on a loaded machine. */
async function answers (lp: ReturnType<typeof lpStream>): Promise<boolean> {
  return await lp.read({ signal: AbortSignal.timeout(5000) }).then(() => true, () => false)
}

const json = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value))

test.before(async () => {
  root = await mkdtemp(join(tmpdir(), 'dms-punch-hostile-'))
  relay = createNode({ dataDir: join(root, 'relay'), listen: ['/ip4/127.0.0.1/tcp/0'], discovery: { relayServer: true } })
  await relay.start()
  victim = createNode({
    dataDir: join(root, 'victim'),
    listen: ['/ip4/127.0.0.1/tcp/0'],
    bootstrap: [relay.status().host.addresses[0]!],
    discovery: { relayClient: true, stun: ['127.0.0.1:9'] }
  })
  victim.on('holepunch.failed', (event) => { failures.push(event.reason) })
  victim.handle('still.there', () => 'yes')
  await victim.start()
  await passes(() => { assert.is(victim.status().discovery.find((d) => d.network === 'public')?.relay, 'reserved') }, 15_000)
})

test.after(async () => {
  await Promise.allSettled(attackers.map(async (node) => { await node.stop() }))
  await victim?.stop()
  await relay?.stop()
  await rm(root, { recursive: true, force: true })
})

test('malformed, oversized and out-of-order frames are refused, each with its reason, and the stream closed', async () => {
  const attacks: Array<[string, Uint8Array, RegExp]> = [
    ['not JSON', new TextEncoder().encode('{{{ not json'), /not JSON/],
    ['a SYN to a loopback service', json({ type: 'connect', address: '127.0.0.1:22' }), /not a public IPv4 host:port/],
    ['a SYN into our own network', json({ type: 'connect', address: '192.168.1.10:6379' }), /not a public IPv4 host:port/],
    ['sync before connect', json({ type: 'sync' }), /sync before connect/],
    ['an oversized frame', json({ type: 'connect', reason: 'x'.repeat(4096) }), /length|too long|larger/i]
  ]
  for (const [name, frame, reason] of attacks) {
    // a new peer each time: one peer gets 4 punches a minute
    const { lp } = await punchStream(await attacker(victim.peerId))
    await lp.write(frame).catch(() => {}).catch(() => {})
    assert.not.ok(await answers(lp), `${name}: the victim must not answer`)
    await passes(() => { assert.ok(failures.some((f) => reason.test(f)), `${name}: ${JSON.stringify(failures)}`) }, 5000)
  }
})

test('a peer whose id sorts after ours may not open a punch (the lower id opens)', async () => {
  let key = await generateKeyPair('Ed25519')
  for (let i = 0; i < 20_000 && peerIdFromPrivateKey(key).toString() < victim.peerId; i++) key = await generateKeyPair('Ed25519')
  // with 64 draws a victim whose id sorts near the top got a lower "higher" peer, which it rightly answered
  assert.ok(peerIdFromPrivateKey(key).toString() > victim.peerId, 'found a peer id that sorts after the victim\'s')
  const higher = await createLibp2pNode({ privateKey: key, listen: ['/ip4/127.0.0.1/tcp/0'], discovery: parseDiscovery({ relayClient: true }, []) })
  await higher.start()
  attackers.push(higher)
  const { lp } = await punchStream(higher)
  await lp.write(json({ type: 'connect', address: '11.77.0.9:40000' })).catch(() => {})
  assert.not.ok(await answers(lp))
})

test('a flood of punches from one peer: at most 4 a minute get an answer', async () => {
  const flooder = await attacker(victim.peerId)
  let answered = 0
  for (let i = 0; i < 8; i++) {
    const { lp, stream } = await punchStream(flooder)
    // a refused stream may be closed before the frame is written
    await lp.write(json({ type: 'connect', address: '11.77.0.9:40000' })).catch(() => {})
    if (await answers(lp)) answered++
    stream.abort(new Error('done'))
  }
  assert.ok(answered >= 1, 'a first punch is answered (with why this node cannot punch)')
  assert.ok(answered <= 4, `answered ${answered} of 8`)
})

test('throwaway identities: 25 fresh peers get at most the node-wide 10 answers a minute', async () => {
  let answered = 0
  await Promise.all(Array.from({ length: 25 }, async () => {
    const sybil = await attacker(victim.peerId)
    const { lp, stream } = await punchStream(sybil)
    await lp.write(json({ type: 'connect', address: '11.77.0.9:40000' })).catch(() => {})
    if (await answers(lp)) answered++
    stream.abort(new Error('done'))
  }))
  assert.ok(answered >= 1, 'some are answered')
  assert.ok(answered <= MAX_PROBES, `answered ${answered} of 25`)
  await passes(() => { assert.ok(failures.some((f) => /at most 10 hole punches a minute/.test(f)), JSON.stringify(failures)) }, 5000)
})

test('over a direct connection the protocol is refused outright; the node keeps serving', async () => {
  const direct = await attacker(victim.peerId)
  const connection = await direct.dial(multiaddr(`${victim.status().host.addresses[0]!}`))
  const stream = await connection.newStream(HOLE_PUNCH_PROTOCOL)
  const lp = lpStream(stream)
  await lp.write(json({ type: 'connect', address: '11.77.0.9:40000' })).catch(() => {})
  assert.not.ok(await answers(lp))
  assert.is(await relay.request(victim.peerId, 'still.there', {}), 'yes')
})

test.run()
