// A signed bid request that reaches a real node many times, and generated forgeries of it: the node
// delivers it once and verifies its signature once, not once per copy (a peer repeating one valid
// message used to cost its receiver an Ed25519 verification each time), and forged copies sent
// before it (same author, sequence number and topic, other bytes) do not hide it.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { createLibp2p } from 'libp2p'
import type { Libp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { PrivateKey, Stream } from '@libp2p/interface'
import { RPC } from '@libp2p/gossipsub/message'
import { createLibp2pNode } from '../../actors/libp2p-node.js'
import type { DmsLibp2p } from '../../actors/libp2p-node.js'
import { BID_REQUEST_TOPIC } from '../../actors/wire/bid-request.js'
import { encodeFrame } from '../../actors/wire/frames.js'
import { prng } from '../support/prng.js'
import { passes } from '../support/nodes.js'

const GOSSIPSUB = '/meshsub/1.1.0'
const SIGN_PREFIX = new TextEncoder().encode('libp2p-pubsub:')
const COPIES = 100
const FORGERIES = 40

let victim: DmsLibp2p
const peers: Libp2p[] = []
let delivered: Uint8Array[] = []
let duplicates = 0
/** Gossipsub signature checks (data signed under the pubsub prefix) the node has made. */
let verifications = 0
let restoreVerify: () => void = () => {}

const startsWithPrefix = (data: Uint8Array | { subarray: () => Uint8Array }): boolean => {
  const bytes = data instanceof Uint8Array ? data : data.subarray()
  return SIGN_PREFIX.every((b, i) => bytes[i] === b)
}

async function signedMessage (author: PrivateKey, seqno: Uint8Array, data: Uint8Array): Promise<RPC.Message> {
  const from = author.publicKey.toMultihash().bytes
  const body = RPC.Message.encode({ from, data, seqno, topic: BID_REQUEST_TOPIC })
  const signed = new Uint8Array(SIGN_PREFIX.byteLength + body.byteLength)
  signed.set(SIGN_PREFIX)
  signed.set(body, SIGN_PREFIX.byteLength)
  return { from, data, seqno, topic: BID_REQUEST_TOPIC, signature: await author.sign(signed) }
}

/** A plain libp2p peer (no gossipsub of its own) with a raw gossipsub stream to the node. */
async function rawGossipStream (): Promise<Stream> {
  const peer = await createLibp2p({ privateKey: await generateKeyPair('Ed25519'), transports: [tcp()], connectionEncrypters: [noise()], streamMuxers: [yamux()] })
  peers.push(peer)
  await peer.start()
  return await peer.dialProtocol(victim.getMultiaddrs()[0]!, GOSSIPSUB)
}

const rpc = (messages: RPC.Message[]): Uint8Array => encodeFrame(RPC.encode({ subscriptions: [], messages }))

test.before(async () => {
  // count the Ed25519 verifications of pubsub signatures, wherever gossipsub makes them
  const proto = Object.getPrototypeOf((await generateKeyPair('Ed25519')).publicKey) as { verify: (data: never, sig: Uint8Array) => unknown }
  const verify = proto.verify
  proto.verify = function (this: unknown, data: never, sig: Uint8Array) {
    if (startsWithPrefix(data)) verifications++
    return verify.call(this, data, sig)
  }
  restoreVerify = () => { proto.verify = verify }
  victim = await createLibp2pNode({ privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'] })
  await victim.start()
  const pubsub = victim.services.pubsub as unknown as { subscribe: (t: string) => void, score: { duplicateMessage: (...args: unknown[]) => void } }
  pubsub.subscribe(BID_REQUEST_TOPIC)
  const duplicateMessage = pubsub.score.duplicateMessage.bind(pubsub.score)
  pubsub.score.duplicateMessage = (...args: unknown[]) => { duplicates++; duplicateMessage(...args) }
  victim.services.pubsub.addEventListener('message', (event) => { delivered.push(event.detail.data) })
})

test.after(async () => {
  restoreVerify()
  await Promise.allSettled(peers.map(async (peer) => { await peer.stop() }))
  await victim?.stop()
})

test('one valid message sent 100 times after 40 forgeries: delivered once, its signature checked once', async () => {
  const random = prng(26)
  const author = await generateKeyPair('Ed25519')
  const seqno = new Uint8Array(8).map(() => Math.floor(random() * 256))
  const data = new Uint8Array(200).map(() => Math.floor(random() * 256))
  const valid = await signedMessage(author, seqno, data)

  // forgeries: one byte of the data, sequence number or signature changed, or other data of any length,
  // each keeping the author; all reach the signature check and fail it
  const flip = (bytes: Uint8Array): Uint8Array => { const copy = new Uint8Array(bytes); copy[Math.floor(random() * copy.length)]! ^= 1 + Math.floor(random() * 255); return copy }
  const forgeries: RPC.Message[] = Array.from({ length: FORGERIES }, (_, i) => {
    switch (i % 4) {
      case 0: return { ...valid, data: flip(data) }
      case 1: return { ...valid, seqno: flip(seqno) }
      case 2: return { ...valid, signature: flip(valid.signature!) }
      default: return { ...valid, data: new Uint8Array(Math.floor(random() * 1000)).map(() => Math.floor(random() * 256)) }
    }
  })
  const forger = await rawGossipStream()
  forger.send(rpc(forgeries))
  await passes(() => { assert.is(verifications, FORGERIES, 'each forgery was checked, and failed') }, 10_000)
  assert.is(delivered.length, 0, 'no forgery was delivered')

  // the real one, from another peer, in many copies: one delivery, one signature check
  const relay = await rawGossipStream()
  // ten in the first RPC: each copy is looked up only after the one before it was validated
  relay.send(rpc(Array.from({ length: 10 }, () => valid)))
  await passes(() => { assert.is(delivered.length, 1) }, 10_000)
  // the rest, ten to an RPC, all at once
  for (let i = 10; i < COPIES; i += 10) relay.send(rpc(Array.from({ length: 10 }, () => valid)))
  await passes(() => { assert.is(duplicates, COPIES - 1, 'every copy after the first was a duplicate') }, 10_000)
  assert.is(delivered.length, 1)
  assert.ok(Buffer.from(delivered[0]!).equals(data), "the real data")
  assert.is(verifications, FORGERIES + 1, 'the duplicates were not verified again')

  // a forgery of it sent later is a duplicate too: not delivered, not verified
  relay.send(rpc([forgeries[0]!]))
  await passes(() => { assert.is(duplicates, COPIES) }, 10_000)
  assert.is(delivered.length, 1)
  assert.is(verifications, FORGERIES + 1)
  delivered = []
})

test.run()
