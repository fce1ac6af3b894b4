import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { randomBytes } from 'node:crypto'
import { xsalsa20 } from '@noble/ciphers/salsa.js'
import { createXSalsa20Stream, xsalsa20Implementation } from '../../actors/private-network/xsalsa20-stream.js'

/** The keystream of `length` bytes in one @noble/ciphers call: the reference. */
const reference = (key: Uint8Array, nonce: Uint8Array, data: Uint8Array): Uint8Array => xsalsa20(key, nonce, data)

test('the native cipher is built (npm ci builds it)', () => {
  assert.is(xsalsa20Implementation, 'native')
})

for (const implementation of ['native', 'noble'] as const) {
  test(`${implementation}: chunked at odd sizes, the stream equals one-shot XSalsa20`, () => {
    for (let round = 0; round < 50; round++) {
      const key = randomBytes(32)
      const nonce = randomBytes(24)
      const data = randomBytes(1 + Math.floor(Math.random() * 5000))
      const expected = Buffer.from(reference(key, nonce, data))
      const stream = createXSalsa20Stream(key, nonce, implementation)
      const parts: Uint8Array[] = []
      for (let at = 0; at < data.byteLength;) {
        const size = Math.min(data.byteLength - at, [0, 1, 7, 63, 64, 65, 200, 1402][Math.floor(Math.random() * 8)]!)
        parts.push(stream.update(data.subarray(at, at + size)))
        at += size
      }
      assert.equal(Buffer.concat(parts), expected, `round ${round}`)
      assert.equal(Buffer.from(data), expected, 'XORed in place')
    }
  })
}

test('a 1 MiB stream split unevenly equals the reference', () => {
  const key = randomBytes(32)
  const nonce = randomBytes(24)
  const data = randomBytes(1 << 20)
  const expected = Buffer.from(reference(key, nonce, data))
  const stream = createXSalsa20Stream(key, nonce)
  const out = Buffer.concat([stream.update(data.subarray(0, 12345)), stream.update(data.subarray(12345))])
  assert.equal(out, expected)
})

test('bad key or nonce sizes are refused', () => {
  assert.throws(() => createXSalsa20Stream(new Uint8Array(31), new Uint8Array(24)), /32-byte key/)
  assert.throws(() => createXSalsa20Stream(new Uint8Array(32), new Uint8Array(23)), /24-byte nonce/)
})

test.run()
