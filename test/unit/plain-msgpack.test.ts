// The decoder lets only plain values in (no BigInt, no extension, bounded depth), and every sink
// prints whatever it let in. Generated values and bytes, not hand-picked ones.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { Packr } from 'msgpackr'
import { decodeValue, encodeValue, envelopeHeadOf } from '../../actors/wire/codec.js'
import { WireError } from '../../actors/wire/envelope.js'
import { plainMsgpackProblem } from '../../actors/wire/plain-msgpack.js'
import { validateBidRequest } from '../../actors/wire/bid-request.js'
import { jsonText } from '../../runtime/json-text.js'

// a sender that writes everything msgpack can hold: BigInt, Date, Set, Map, RegExp, Error, typed arrays
const hostile = new Packr({ useRecords: false, moreTypes: true, useBigIntExtension: true, structuredClone: true })

/** Is `value` made only of what the wire carries (and so what JSON prints)? */
function isPlain (value: unknown, depth = 0): boolean {
  if (depth > 70) return false
  if (value == null || typeof value === 'boolean' || typeof value === 'number' || typeof value === 'string') return true
  if (value instanceof Uint8Array) return true
  if (Array.isArray(value)) return value.every((item) => isPlain(item, depth + 1))
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) return Object.values(value).every((item) => isPlain(item, depth + 1))
  return false
}

const decodes = (bytes: Uint8Array): { ok: true, value: unknown } | { ok: false } => {
  try {
    return { ok: true, value: decodeValue(bytes) }
  } catch (err) {
    assert.ok(err instanceof WireError && err.code === 'MALFORMED', `not a WireError: ${String(err)}`)
    return { ok: false }
  }
}

test('any value any sender writes decodes to plain data or is refused as MALFORMED', () => {
  fc.assert(fc.property(fc.anything({ withBigInt: true, withDate: true, withMap: true, withSet: true, withTypedArray: true, withNullPrototype: true, maxDepth: 6 }), (value) => {
    let bytes: Uint8Array
    try { bytes = hostile.pack(value) } catch { return }
    const decoded = decodes(bytes)
    if (!decoded.ok) return
    assert.ok(isPlain(decoded.value), `not plain: ${jsonText(decoded.value)}`)
    assert.type(jsonText(decoded.value), 'string')
    JSON.parse(jsonText(decoded.value))
  }), { numRuns: 3000 })
})

test('random bytes never crash the decoder; what decodes is plain and prints', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
    const decoded = decodes(bytes)
    if (decoded.ok) {
      assert.ok(isPlain(decoded.value))
      JSON.parse(jsonText(decoded.value))
    }
    envelopeHeadOf(bytes)
  }), { numRuns: 20000 })
})

test('64-bit integers: safe ones read as numbers, larger ones are refused', () => {
  fc.assert(fc.property(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 64n - 1n }), (big) => {
    const bytes = new Uint8Array(9)
    const view = new DataView(bytes.buffer)
    if (big >= 0n) { bytes[0] = 0xcf; view.setBigUint64(1, big) } else { bytes[0] = 0xd3; view.setBigInt64(1, big) }
    const safe = big <= BigInt(Number.MAX_SAFE_INTEGER) && big >= -BigInt(Number.MAX_SAFE_INTEGER)
    const decoded = decodes(bytes)
    assert.is(decoded.ok, safe, String(big))
    if (decoded.ok) assert.is(decoded.value, Number(big))
  }), { numRuns: 2000 })
})

test('what one node encodes, every node decodes: encodeValue refuses what decodeValue would', () => {
  fc.assert(fc.property(fc.anything({ withBigInt: true, withDate: true, withMap: true, withSet: true, withTypedArray: true, maxDepth: 5 }), (value) => {
    let bytes: Uint8Array
    try {
      bytes = encodeValue(value)
    } catch (err) {
      assert.ok(err instanceof WireError && err.code === 'INVALID', String(err))
      return
    }
    assert.is(plainMsgpackProblem(bytes), undefined)
    assert.ok(decodes(bytes).ok)
  }), { numRuns: 3000 })
})

test('nesting is bounded, and __proto__ keys pollute nothing', () => {
  let deep: unknown = 1
  for (let i = 0; i < 65; i++) deep = [deep]
  assert.throws(() => decodeValue(hostile.pack(deep)), (err: WireError) => err.code === 'MALFORMED' && /nested/.test(err.message))
  const polluting = new Uint8Array([0x81, 0xa9, ...new TextEncoder().encode('__proto__'), 0x81, 0xa8, ...new TextEncoder().encode('polluted'), 0xc3])
  const value = decodeValue(polluting) as Record<string, unknown>
  assert.is(({} as Record<string, unknown>).polluted, undefined)
  assert.is(Object.getPrototypeOf(value), Object.prototype)
})

test('a bid request keeps only its known fields', () => {
  const bid = validateBidRequest({
    jobId: 'j1', resources: { cpuCores: 1, memoryMb: 512, extra: 'x' }, price: { max: 1, currency: 'NTX', note: 1 },
    deadline: Date.now() + 1000, requester: '12D3KooWtest', x: 'unknown field', labels: { arch: 'x86_64' }
  })
  assert.equal(Object.keys(bid).sort(), ['deadline', 'jobId', 'labels', 'price', 'requester', 'resources'])
  assert.equal(bid.resources, { cpuCores: 1, memoryMb: 512 })
  assert.equal(bid.price, { max: 1, currency: 'NTX' })
})

test('a refused envelope is answered by its id without decoding the rest: a 1 MiB frame of Error extensions costs nothing', () => {
  const plain = new Packr({ useRecords: false })
  const head = [plain.pack('v'), plain.pack(1), plain.pack('id'), plain.pack('abc'), plain.pack('kind'), plain.pack('req'), plain.pack('body')]
  const errors = new Uint8Array(1 << 20)
  errors[0] = 0xdd
  new DataView(errors.buffer).setUint32(1, ((1 << 20) - 5) / 3)
  for (let at = 5; at + 3 <= errors.length; at += 3) errors.set([0xd4, 0x65, 0x00], at)
  const frame = new Uint8Array(Buffer.concat([Uint8Array.of(0x84), ...head, errors]))
  const started = performance.now()
  assert.equal(envelopeHeadOf(frame), { id: 'abc', kind: 'req' })
  assert.throws(() => decodeValue(frame), (err: WireError) => err.code === 'MALFORMED')
  assert.ok(performance.now() - started < 200, `${(performance.now() - started).toFixed(0)} ms`)
  // and the id comes first or last, the map is a map16, or there is none
  fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => { envelopeHeadOf(bytes) }), { numRuns: 5000 })
})

test('sinks print whatever they are given', () => {
  const cyclic: Record<string, unknown> = { a: 1 }
  cyclic.self = cyclic
  assert.match(jsonText(cyclic), /unprintable/)
  assert.is(jsonText({ big: 2n ** 70n }), '{"big":"1180591620717411303424"}')
})

test.run()
