import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { sanitize, stateValue } from '../../runtime/inspect/sanitize.js'

test('secrets by name are redacted; bytes become lengths; live objects become tags', () => {
  class Libp2pNode { privateKey = new Uint8Array([1, 2, 3]) }
  const out = sanitize({
    swarmKey: 'abcdef', psk: new Uint8Array(32), privateKey: { raw: new Uint8Array(64) }, nested: { secret: 'x', seed: [1, 2] },
    payload: new Uint8Array(7), libp2p: new Libp2pNode(), ref: { id: 'peer.public.x', sessionId: 'x:1', send () {} },
    fingerprint: 'c08de333', epoch: 3, ok: true, fn: () => 1
  }) as Record<string, unknown>
  assert.is(out.swarmKey, '<redacted>')
  assert.is(out.psk, '<redacted>')
  assert.is(out.privateKey, '<redacted>')
  assert.equal(out.nested, { secret: '<redacted>', seed: '<redacted>' })
  assert.is(out.payload, '<7 bytes>')
  assert.is(out.libp2p, '<Libp2pNode>')
  assert.equal(out.ref, { actorRef: 'peer.public.x' })
  assert.is(out.fingerprint, 'c08de333')
  assert.is(out.epoch, 3)
  assert.not.ok('fn' in out)
})

test('cycles, depth and size are bounded', () => {
  const cyclic: Record<string, unknown> = { a: 1 }
  cyclic.self = cyclic
  const text = JSON.stringify(sanitize(cyclic))
  assert.ok(text.includes('<…>'))
  const long = sanitize(Array.from({ length: 500 }, (_, i) => i)) as unknown[]
  assert.is(long.length, 101)
  assert.is(long[100], '<400 more>')
  assert.ok((sanitize('x'.repeat(5000)) as string).length < 1100)
})

test('state values keep their state names, even a region called "private"; anything else is dropped', () => {
  assert.equal(stateValue({ public: 'online', private: 'absent' }), { public: 'online', private: 'absent' })
  assert.equal(stateValue({ live: { running: 'x' } }), { live: { running: 'x' } })
  assert.is(stateValue('running'), 'running')
  assert.equal(stateValue({ key: new Uint8Array(32) }), { key: undefined })
})

test.run()
