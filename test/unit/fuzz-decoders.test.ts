import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { encodeValue, decodeValue, encodeEnvelope, decodeEnvelope } from '../../actors/wire/codec.js'
import { FrameDecoder, encodeFrame } from '../../actors/wire/frames.js'
import { WireError } from '../../actors/wire/envelope.js'
import { validateSwarmKeyMessage } from '../../runtime/swarm/key-exchange.js'
import { checkTable, createTable } from '../../machines/vpn-table.js'

// A small seeded fuzzer: bounded runs, reproducible from the seed printed on failure.
const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 1_000_000)
let state = seed
const random = (): number => { state = (state * 1103515245 + 12345) % 2147483648; return state / 2147483648 }
const int = (n: number): number => Math.floor(random() * n)
const bytes = (n: number): Uint8Array => Uint8Array.from({ length: n }, () => int(256))
/** Flip, insert, delete or overwrite a few bytes of a valid encoding. */
function mutate (input: Uint8Array): Uint8Array {
  const out = Array.from(input)
  for (let edits = 1 + int(4); edits > 0; edits--) {
    const at = int(out.length + 1)
    const kind = int(4)
    if (kind === 0 && out.length > 0) out[at % out.length] = out[at % out.length]! ^ (1 << int(8))
    else if (kind === 1) out.splice(at, 0, int(256))
    else if (kind === 2 && out.length > 0) out.splice(at % out.length, 1)
    else out[at % Math.max(1, out.length)] = int(256)
  }
  return Uint8Array.from(out)
}
/** Odd values a hostile encoder may produce. */
const oddValues = [Number.NaN, Infinity, -0, 2 ** 60, '', 'x'.repeat(300), null, [], {}, new Uint8Array(3), true, { __proto__: { kind: 'grant' } }]
const odd = (): unknown => oddValues[int(oddValues.length)]
const RUNS = 3000

/** Run `decode` on `input`: it must return, or throw an Error of the expected kind, never anything else. */
function total (what: string, decode: () => unknown, expected: (err: unknown) => boolean): void {
  try { decode() } catch (err) {
    if (!expected(err)) assert.unreachable(`${what} threw ${String(err)} (FUZZ_SEED=${seed})`)
  }
}

test('messenger envelopes: mutated and random frames decode to a valid envelope or a WireError', () => {
  const valid = encodeEnvelope({ v: 1, id: 'abc', kind: 'req', type: 'job.status', from: 'peer', ts: Date.now(), body: { a: [1, 2, 'x'] } })
  for (let i = 0; i < RUNS; i++) {
    const input = i % 3 === 0 ? bytes(int(64)) : mutate(valid)
    total('decodeEnvelope', () => decodeEnvelope(input), (err) => err instanceof WireError)
    const fields = { v: 1, id: 'i', kind: 'err', type: 't', from: 'f', ts: 1, re: 'r', body: { code: 'c', message: 'm' } } as Record<string, unknown>
    fields[Object.keys(fields)[int(8)]!] = odd()
    total('decodeEnvelope(odd field)', () => decodeEnvelope(encodeValue(fields)), (err) => err instanceof WireError)
  }
})

test('frame decoder: random chunkings of random bytes yield frames or a WireError, never more than the limit buffered', () => {
  for (let i = 0; i < RUNS; i++) {
    const decoder = new FrameDecoder(1024)
    const stream = i % 2 === 0 ? bytes(int(2048)) : Uint8Array.from([...encodeFrame(bytes(int(900))), ...bytes(int(20))])
    total('FrameDecoder', () => {
      for (let at = 0; at < stream.length;) {
        const size = 1 + int(300)
        for (const frame of decoder.push(stream.subarray(at, at + size))) assert.ok(frame.byteLength <= 1024)
        at += size
      }
    }, (err) => err instanceof WireError)
  }
})

test('swarm key-exchange messages: mutated encodings and odd fields are valid or "malformed", never a crash', () => {
  const request = { kind: 'request', requester: 'a', owner: 'b', network: 'dms', nonce: new Uint8Array(16), time: Date.now(), signature: new Uint8Array(64) }
  const leave = { kind: 'leave', member: 'a', owner: 'b', network: 'dms', epoch: 3, time: Date.now(), signature: new Uint8Array(64) }
  for (const message of [request, leave]) {
    const encoded = encodeValue(message)
    assert.is(validateSwarmKeyMessage(decodeValue(encoded)).kind, message.kind)
    for (let i = 0; i < RUNS; i++) {
      total('validate(mutated)', () => validateSwarmKeyMessage(decodeValue(mutate(encoded))), (err) => err instanceof Error)
      const fields = { ...message } as Record<string, unknown>
      fields[Object.keys(fields)[int(7)]!] = odd()
      total('validate(odd)', () => validateSwarmKeyMessage(fields), (err) => err instanceof Error && /malformed/.test(err.message))
    }
    assert.throws(() => validateSwarmKeyMessage({ ...message, time: Number.NaN }), /malformed/)
  }
  assert.throws(() => validateSwarmKeyMessage({ ...leave, epoch: 1.5 }), /malformed/)
})

test('VPN routing tables from the wire: checkTable never throws, and refuses every odd value in place of a table', () => {
  const table = createTable({ vpnId: 'v', leader: 'L', subnet: '10.9.0.0/24', hosts: ['L', 'A', 'B'] }) as unknown as Record<string, unknown>
  for (let i = 0; i < RUNS; i++) {
    const copy = JSON.parse(JSON.stringify(table)) as Record<string, unknown>
    copy[Object.keys(copy)[int(Object.keys(copy).length)]!] = odd()
    const whole = i % 5 === 0
    let verdict: string | undefined
    try { verdict = checkTable(whole ? odd() : copy) } catch (err) { assert.unreachable(`checkTable threw ${String(err)} (FUZZ_SEED=${seed})`) }
    // an odd value in place of the whole table is always refused; one odd field may happen to be acceptable (e.g. -0)
    if (whole) assert.type(verdict, 'string')
  }
})

test.run()
