import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { FrameDecoder, SKIPPED_HEAD_BYTES, encodeFrame } from '../../actors/wire/frames.js'
import { prng } from '../support/prng.js'
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

test('generated streams: frames over the limit but within skipUpTo are dropped as they come, their heads reported, the others delivered in order', () => {
  for (let seed = 1; seed <= 200; seed++) {
    const random = prng(seed)
    const limit = 64 + Math.floor(random() * 400)
    const sizes = Array.from({ length: 1 + Math.floor(random() * 12) }, () => Math.floor(random() * 3 * limit))
    const payloads = sizes.map((size, i) => new Uint8Array(size).map((_, j) => (i * 31 + j) & 0xff))
    const stream = new Uint8Array(payloads.reduce((total, p) => total + encodeFrame(p).length, 0))
    let at = 0
    for (const p of payloads) { const frame = encodeFrame(p); stream.set(frame, at); at += frame.length }
    const skipped: Array<[number, Uint8Array]> = []
    const decoder = new FrameDecoder(limit, { skipUpTo: 4 * limit, onSkipped: (length, head) => { skipped.push([length, head]) } })
    const out: Uint8Array[] = []
    for (let from = 0; from < stream.length;) {
      const to = Math.min(stream.length, from + 1 + Math.floor(random() * limit))
      out.push(...decoder.push(stream.subarray(from, to)))
      assert.ok(decoder.bufferedBytes <= limit + 5 + (to - from), `seed ${seed}: a skipped frame is never buffered whole`)
      from = to
    }
    const kept = payloads.filter((p) => p.length <= limit)
    const over = payloads.filter((p) => p.length > limit)
    assert.equal(out.map((f) => Array.from(f)), kept.map((p) => Array.from(p)), `seed ${seed}: the frames within the limit, in order`)
    assert.equal(skipped.map(([length]) => length), over.map((p) => p.length), `seed ${seed}: each skipped frame reported once`)
    skipped.forEach(([, head], i) => { assert.equal(Array.from(head), Array.from(over[i]!.subarray(0, SKIPPED_HEAD_BYTES)), `seed ${seed}: the head is the frame's first bytes`) })
    assert.is(decoder.ended, payloads.length)
    assert.not.ok(decoder.pending)
  }
})

test('past skipUpTo a declared length is still fatal', () => {
  const decoder = new FrameDecoder(1000, { skipUpTo: 5000, onSkipped: () => {} })
  wireError(() => decoder.push(encodeFrame(new Uint8Array(5001)).subarray(0, 2)), 'OVERSIZED', /5001 bytes exceeds the 1000-byte limit/)
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
