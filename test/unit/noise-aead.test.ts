import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { createCipheriv, randomBytes } from 'node:crypto'
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { Worker } from 'node:worker_threads'
import { Uint8ArrayList } from 'uint8arraylist'
import { noiseCrypto, noiseCipher } from '../../actors/native/noise-aead.js'
import { loadAddon } from '../../actors/native/addon.js'
import { packageRoot } from '../../actors/native/package-root.js'

/** Node's own ChaCha20-Poly1305: ciphertext then tag. The reference. */
function reference (key: Uint8Array, nonce: Uint8Array, ad: Uint8Array, plaintext: Uint8Array): Buffer {
  const cipher = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 })
  cipher.setAAD(ad, { plaintextLength: plaintext.byteLength })
  return Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()])
}

/** A seeded generator, so that a failing case can be run again. */
function random (seed: number): (below: number) => number {
  let state = seed >>> 0
  return (below) => {
    state = (Math.imul(state ^ (state >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0
    return state % below
  }
}

/** `data` cut at random places into a Uint8ArrayList of copies (as a socket would deliver it). */
function split (data: Uint8Array, next: (below: number) => number, maxParts: number): Uint8ArrayList {
  const cuts = Array.from({ length: next(maxParts) }, () => next(data.byteLength + 1)).sort((x, y) => x - y)
  const bounds = [0, ...cuts, data.byteLength]
  return new Uint8ArrayList(...bounds.slice(1).map((end, i) => Uint8Array.from(data.subarray(bounds[i], end))))
}

const crypto = noiseCrypto()
const same = (x: Uint8Array | Uint8ArrayList, y: Uint8Array): boolean => Buffer.from(x.subarray()).equals(Buffer.from(y))

test('the native cipher is built and chosen (npm ci builds it)', () => {
  assert.is(noiseCipher(), 'native')
})

test('generated: 400 records of random size, ad and splits seal as Node does and open again, wherever dst lies', () => {
  for (let seed = 1; seed <= 400; seed++) {
    const next = random(seed)
    const size = [0, 1, 15, 16, 17, 1199, 1200, 65519][next(8)]! + (next(4) === 0 ? next(70000) : 0)
    const plaintext = randomBytes(size)
    const key = randomBytes(32)
    const nonce = randomBytes(12)
    const ad = randomBytes([0, 32][next(2)]!)
    const expected = reference(key, nonce, ad, plaintext)
    // up to 80 parts: more than the addon takes at once (64), so the joined path runs too
    const input = next(2) === 0 ? plaintext : split(plaintext, next, 80)
    const sealed = crypto.chaCha20Poly1305Encrypt(input, nonce, ad, key)
    assert.ok(same(sealed, expected), `seed ${seed}: sealed as Node seals`)

    // as Noise decrypts: over the ciphertext itself, into a fresh copy (a record spread over
    // socket reads), or with a dst that only partly overlaps (which must not corrupt the result)
    const flat = Buffer.from(expected)
    const cases: Array<[string, Uint8Array | Uint8ArrayList, Uint8Array | undefined]> = [
      ['in place', flat, flat.subarray(0, size)],
      ['no dst', Buffer.from(expected), undefined],
      ['split, copy as dst', split(expected, next, 70), Buffer.from(expected.subarray(0, size))],
      ['partial overlap', Buffer.from(expected), undefined]
    ]
    const overlapping = cases[3]![1] as Buffer
    if (size > 2) cases[3]![2] = overlapping.subarray(1, 1 + size)
    for (const [name, ciphertext, dst] of cases) {
      const opened = crypto.chaCha20Poly1305Decrypt(ciphertext, nonce, ad, key, dst)
      assert.ok(same(opened, plaintext), `seed ${seed}: ${name}`)
    }
  }
})

test('generated: any changed byte of ciphertext, tag, ad or nonce is refused', () => {
  for (let seed = 1; seed <= 200; seed++) {
    const next = random(seed)
    const size = next(3000)
    const plaintext = randomBytes(size)
    const key = randomBytes(32)
    const nonce = randomBytes(12)
    const ad = randomBytes(32)
    const sealed = reference(key, nonce, ad, plaintext)
    const where = next(4)
    const [c, n, a] = [Buffer.from(sealed), Buffer.from(nonce), Buffer.from(ad)]
    const target = [c, c.subarray(size), n, a][where]!
    const at = next(target.byteLength)
    target[at] = target[at]! ^ (1 << next(8))
    assert.throws(() => crypto.chaCha20Poly1305Decrypt(c, n, a, key, c.subarray(0, size)), /Invalid chacha20poly1305/, `seed ${seed}: part ${where}`)
  }
  assert.throws(() => crypto.chaCha20Poly1305Decrypt(new Uint8Array(15), new Uint8Array(12), new Uint8Array(0), new Uint8Array(32)), /shorter than its tag/)
})

test('the binding refuses misuse with errors, not crashes', () => {
  type Aead = { seal: (...args: unknown[]) => void, open: (...args: unknown[]) => boolean }
  const aead = loadAddon<Aead>('aead')
  const [key, nonce, ad, tag] = [new Uint8Array(32), new Uint8Array(12), new Uint8Array(0), new Uint8Array(16)]
  assert.throws(() => { aead.seal(new Uint8Array(31), nonce, ad, new Uint8Array(4), new Uint8Array(20)) }, /32-byte key/)
  assert.throws(() => { aead.seal(key, new Uint8Array(8), ad, new Uint8Array(4), new Uint8Array(20)) }, /12-byte nonce/)
  assert.throws(() => { aead.seal(key, nonce, ad, new Uint8Array(4), new Uint8Array(19)) }, /16 bytes longer/)
  assert.throws(() => { aead.seal(key, nonce, ad, 'text', new Uint8Array(20)) }, /takes Uint8Arrays/)
  assert.throws(() => { aead.seal(key, nonce, ad, Array.from({ length: 65 }, () => new Uint8Array(1)), new Uint8Array(81)) }, /up to 64/)
  assert.throws(() => { aead.seal(key, nonce, ad, [new Uint8Array(1), 'x'], new Uint8Array(18)) }, /Uint8Arrays/)
  assert.throws(() => { aead.seal(key, nonce) }, /Uint8Arrays/)
  assert.throws(() => { aead.open(key, nonce, ad, new Uint8Array(4), new Uint8Array(15), new Uint8Array(4)) }, /16-byte tag/)
  assert.throws(() => { aead.open(key, nonce, ad, new Uint8Array(4), tag, new Uint8Array(5)) }, /as long as the ciphertext/)
  assert.is(aead.open(key, nonce, ad, new Uint8Array(4), tag, new Uint8Array(4)), false, 'a wrong tag is false, not an exception')
})

test('worker threads each get their own cipher contexts: two at once seal and open thousands of records correctly', async () => {
  const candidates = [join(packageRoot, 'native', 'build', 'Release', 'aead.node'), join(packageRoot, 'prebuilds', `${process.platform}-${process.arch}`, 'aead.node')]
  const addonPath = candidates.find((path) => existsSync(path))!
  // each worker checks itself against Node's cipher and reports how many records held
  const code = `
    const { workerData, parentPort } = require('node:worker_threads')
    const crypto = require('node:crypto')
    const aead = require(workerData.addonPath)
    let good = 0
    for (let i = 0; i < 3000; i++) {
      const key = crypto.randomBytes(32), nonce = crypto.randomBytes(12), ad = crypto.randomBytes(i % 33), plaintext = crypto.randomBytes(i % 9000)
      const out = Buffer.alloc(plaintext.length + 16)
      aead.seal(key, nonce, ad, plaintext, out)
      const c = crypto.createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 })
      c.setAAD(ad, { plaintextLength: plaintext.length })
      const expected = Buffer.concat([c.update(plaintext), c.final(), c.getAuthTag()])
      const opened = Buffer.alloc(plaintext.length)
      if (out.equals(expected) && aead.open(key, nonce, ad, out.subarray(0, plaintext.length), out.subarray(plaintext.length), opened) && opened.equals(plaintext)) good++
    }
    parentPort.postMessage(good)`
  const results = await Promise.all([0, 1].map(async () => await new Promise<number>((resolve, reject) => {
    const worker = new Worker(code, { eval: true, workerData: { addonPath } })
    worker.once('message', resolve)
    worker.once('error', reject)
    worker.once('exit', (exitCode) => { if (exitCode !== 0) reject(new Error(`worker exited with ${exitCode}`)) })
  })))
  assert.equal(results, [3000, 3000])
  // and this thread's contexts still work after the workers ended
  assert.ok(same(crypto.chaCha20Poly1305Encrypt(new Uint8Array(5), new Uint8Array(12), new Uint8Array(0), new Uint8Array(32)), reference(new Uint8Array(32), new Uint8Array(12), new Uint8Array(0), new Uint8Array(5))))
})

test('DMS_NET_NOISE_CIPHER=node keeps Noise\'s own cipher', () => {
  const script = "import { noiseCipher } from './actors/native/noise-aead.ts'; process.stdout.write(noiseCipher())"
  const run = (env: NodeJS.ProcessEnv): string => execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { env: { ...process.env, ...env }, encoding: 'utf8' })
  assert.is(run({ DMS_NET_NOISE_CIPHER: 'node' }), 'node')
  assert.is(run({ DMS_NET_NOISE_CIPHER: '' }), 'native')
})

test.run()
