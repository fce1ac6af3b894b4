import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { randomBytes } from 'node:crypto'
import { xsalsa20 } from '@noble/ciphers/salsa.js'
import { createXSalsa20Stream, xsalsa20Implementation } from '../../actors/private-network/xsalsa20-stream.js'
import { loadAddon } from '../../actors/native/addon.js'

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

test('the native binding refuses misuse with errors, not crashes', () => {
  type Cipher = { update: (input: unknown, output: unknown) => void }
  const { XSalsa20 } = loadAddon<{ XSalsa20: new (key: Uint8Array, nonce: Uint8Array) => Cipher }>('xsalsa20')
  const key = new Uint8Array(32)
  const nonce = new Uint8Array(24)
  const cipher = new XSalsa20(key, nonce)
  // without new, or called again on a live cipher (which would leak it and keep the old key)
  assert.throws(() => (XSalsa20 as unknown as (k: Uint8Array, n: Uint8Array) => void)(key, nonce), /use new/)
  assert.throws(() => { Reflect.apply(XSalsa20, cipher, [key, nonce]) }, /use new/)
  assert.throws(() => { cipher.update(new Uint8Array(10), new Uint8Array(5)) }, /shorter than input/)
  assert.throws(() => { cipher.update('bytes', new Uint8Array(5)) }, /two Uint8Arrays/)
  assert.throws(() => { cipher.update.call({}, new Uint8Array(1), new Uint8Array(1)) }, TypeError)
  const data = new Uint8Array(600).fill(9)
  cipher.update(data, data)
  assert.equal(data, reference(key, nonce, new Uint8Array(600).fill(9)), 'the cipher still works')
})

test.run()
