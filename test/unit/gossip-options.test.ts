import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { AddressRanges, parseCidr } from '../../actors/address-ranges.js'
import { PRIVATE_RANGES, defaultGossipConfig, fastMessageId, gossipsubOptions } from '../../actors/gossip-options.js'
import { prng } from '../support/prng.js'
import { parsePubsub } from '../../runtime/pubsub-config.js'

test('the colocation whitelist matches private, loopback, CGNAT and IPv6 local addresses, not public ones', () => {
  const ranges = new AddressRanges(PRIVATE_RANGES)
  for (const ip of ['127.0.0.1', '10.1.2.3', '172.16.0.9', '172.31.255.255', '192.168.1.1', '100.64.0.1', '169.254.3.4', '::1', 'fd00::1', 'fe80::1', '::ffff:10.0.0.1']) {
    assert.ok(ranges.has(ip), ip)
    assert.ok(ranges.has(ip), `${ip} again (cached)`)
  }
  for (const ip of ['8.8.8.8', '172.32.0.1', '192.169.0.1', '100.128.0.1', '2001:db8::1', '::ffff:8.8.8.8', 'not-an-ip', '999.1.1.1']) assert.not.ok(ranges.has(ip), ip)
  assert.throws(() => parseCidr('10.0.0.0/33'), /not an address range/)
  assert.throws(() => parseCidr('10.0.0.0'), /not an address range/)
})

test('bootstrap peers score above the PX threshold; others do not', () => {
  const options = gossipsubOptions(defaultGossipConfig, ['12D3KooWtrusted'])
  const score = options.scoreParams!.appSpecificScore!
  assert.ok(score('12D3KooWtrusted') * options.scoreParams!.appSpecificWeight! >= 10)
  assert.is(score('12D3KooWstranger'), 0)
  assert.is(options.doPX, true)
  assert.is(options.scoreParams!.IPColocationFactorThreshold, 64)
})

test('pubsub config: overrides taken, bad values and unknown keys named', () => {
  const problems: string[] = []
  const config = parsePubsub({ colocationThreshold: 200, peerExchange: false }, problems)
  assert.equal([problems, config.colocationThreshold, config.peerExchange, config.floodPublish], [[], 200, false, true])
  const bad: string[] = []
  parsePubsub({ colocationWeight: 3, colocationWhitelist: ['10.0.0.0/40'], meshDegree: 1, colour: 'red' } as never, bad)
  for (const field of ['pubsub.colour', 'pubsub.colocationWhitelist', 'pubsub.colocationWeight', 'pubsub.meshDegree']) assert.ok(bad.some((p) => p.startsWith(field)), field)
})

test('the fast message id: one per (author, sequence number, topic), never one for two', () => {
  const random = prng(11)
  const bytes = (max: number): Uint8Array => new Uint8Array(Math.floor(random() * (max + 1))).map(() => Math.floor(random() * 4))
  const seen = new Map<string, string>()
  for (let i = 0; i < 5000; i++) {
    // short fields over a small alphabet, so that different splits of the same bytes come up often
    const message = random() < 0.1 ? {} : { from: bytes(4), seqno: bytes(3), topic: String.fromCharCode(...bytes(3)) }
    const fields = JSON.stringify([message.from, message.seqno].map((f) => f == null ? [] : [...f]).concat([[...(message.topic ?? '')].map((c) => c.charCodeAt(0))]))
    const id = fastMessageId(message)
    assert.is(fastMessageId({ ...message }), id, 'the same fields give the same id')
    const before = seen.get(id)
    if (before != null) assert.is(before, fields, `two messages share the id ${JSON.stringify(id)}`)
    seen.set(id, fields)
  }
  assert.ok(seen.size > 1000)
  const options = gossipsubOptions(defaultGossipConfig, [])
  assert.is(options.fastMsgIdFn, fastMessageId)
  assert.is(options.awaitRpcMessageHandler, true, 'the messages of an RPC in order')
  assert.is.not(options.awaitRpcHandler, true, 'RPCs are not held up by one another')
})

test.run()
