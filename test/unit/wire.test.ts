import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { FrameDecoder, encodeFrame } from '../../actors/wire/frames.js'
import { decodeEnvelope, encodeEnvelope, encodeValue } from '../../actors/wire/codec.js'
import { WireError } from '../../actors/wire/envelope.js'
import type { Envelope } from '../../actors/wire/envelope.js'
import { validateBidRequest } from '../../actors/wire/bid-request.js'

const envelope: Envelope = { v: 1, id: 'a1', kind: 'req', type: 'job.status', from: 'P', ts: 1, body: { n: 1, bytes: new Uint8Array([1, 2]) } }

const wireError = (fn: () => unknown, code: string, pattern: RegExp): void => {
  try { fn() } catch (err) {
    assert.instance(err, WireError)
    assert.is((err as WireError).code, code)
    assert.match((err as Error).message, pattern)
    return
  }
  assert.unreachable(`expected ${code}`)
}

test('an envelope survives encode → frame → split arbitrarily → decode', () => {
  const frame = encodeFrame(encodeEnvelope(envelope))
  const twice = new Uint8Array([...frame, ...frame])
  for (const cut of [1, 2, 3, 7, frame.length - 1, frame.length + 1]) {
    const decoder = new FrameDecoder(1 << 20)
    const frames = [...decoder.push(twice.subarray(0, cut)), ...decoder.push(twice.subarray(cut))]
    assert.is(frames.length, 2, `cut at ${cut}`)
    const decoded = decodeEnvelope(frames[1]!)
    assert.is(decoded.type, 'job.status')
    assert.equal(Array.from((decoded.body as { bytes: Uint8Array }).bytes), [1, 2])
    assert.not.ok(decoder.pending)
  }
})

test('one byte at a time, a large frame decodes once', () => {
  const payload = new Uint8Array(300).fill(7)
  const frame = encodeFrame(payload)
  assert.is(frame.length, 302, 'two-byte varint header')
  const decoder = new FrameDecoder(1 << 20)
  const out: Uint8Array[] = []
  for (const byte of frame) out.push(...decoder.push(new Uint8Array([byte])))
  assert.is(out.length, 1)
  assert.is(out[0]!.length, 300)
})

test('an oversized declared length fails before the body is buffered', () => {
  const decoder = new FrameDecoder(1000)
  const header = encodeFrame(new Uint8Array(1001)).subarray(0, 2)
  wireError(() => decoder.push(header), 'OVERSIZED', /1001 bytes exceeds the 1000-byte limit/)
})

test('frame headers round-trip at every varint length boundary', () => {
  for (const size of [0, 1, 127, 128, 16_383, 16_384, 2_097_151, 2_097_152]) {
    const payload = new Uint8Array(size).fill(7)
    const frame = encodeFrame(payload)
    const headerBytes = size < 128 ? 1 : size < 16_384 ? 2 : size < 2_097_152 ? 3 : 4
    assert.is(frame.length, headerBytes + size, `size ${size}`)
    const frames = new FrameDecoder(4 << 20).push(frame)
    assert.is(frames.length, 1, `size ${size}`)
    assert.is(frames[0]!.length, size, `size ${size}`)
  }
})

test('a runaway varint header is malformed', () => {
  wireError(() => new FrameDecoder(1 << 20).push(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0x01])), 'MALFORMED', /header/)
})

test('garbage and wrong shapes are refused with the field named', () => {
  wireError(() => decodeEnvelope(new Uint8Array([0x82, 0xa1])), 'MALFORMED', /not (plain|valid) msgpack/)
  wireError(() => decodeEnvelope(new Uint8Array([0xc1])), 'MALFORMED', /reserved byte/)
  wireError(() => decodeEnvelope(encodeValue([1, 2])), 'INVALID', /not a map/)
  wireError(() => decodeEnvelope(encodeValue({ ...envelope, v: 2 })), 'INVALID', /version 2/)
  wireError(() => decodeEnvelope(encodeValue({ ...envelope, id: 5 })), 'INVALID', /id/)
  wireError(() => decodeEnvelope(encodeValue({ ...envelope, kind: 'shout' })), 'INVALID', /kind/)
  wireError(() => decodeEnvelope(encodeValue({ ...envelope, type: 'has space' })), 'INVALID', /type/)
  wireError(() => decodeEnvelope(encodeValue({ ...envelope, ts: 'now' })), 'INVALID', /ts/)
  wireError(() => decodeEnvelope(encodeValue({ ...envelope, kind: 'res' })), 'INVALID', /needs re/)
  wireError(() => decodeEnvelope(encodeValue({ ...envelope, to: { actor: 3 } })), 'INVALID', /to.actor/)
  wireError(() => decodeEnvelope(encodeValue({ ...envelope, kind: 'err', re: 'x', body: 'no' })), 'INVALID', /code, message/)
})

test('bid requests are validated field by field', () => {
  const bid = { jobId: 'j1', resources: { cpuCores: 2, memoryMb: 512 }, price: { max: 3, currency: 'DMS' }, deadline: Date.now() + 1000, requester: 'P' }
  assert.equal(validateBidRequest(bid), bid)
  assert.throws(() => validateBidRequest({ ...bid, jobId: '' }), /jobId/)
  assert.throws(() => validateBidRequest({ ...bid, resources: { cpuCores: 0, memoryMb: 1 } }), /cpuCores/)
  assert.throws(() => validateBidRequest({ ...bid, price: { max: -1, currency: 'DMS' } }), /price.max/)
  assert.throws(() => validateBidRequest({ ...bid, deadline: 'soon' }), /deadline/)
  assert.throws(() => validateBidRequest({ ...bid, labels: { a: 1 } }), /label a/)
})

test.run()
