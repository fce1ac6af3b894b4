import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKey } from '@libp2p/pnet'
import { parseSwarmKey, formatSwarmKey, generateSwarmKey, fingerprint, readSwarmKeyFile, writeSwarmKeyFile, SwarmKeyError } from '../../runtime/swarm/key-file.js'

const key = generateSwarmKey()
const hex = Buffer.from(key).toString('hex')

test('every encoding round-trips', () => {
  for (const encoding of ['base16', 'base64', 'bin'] as const) {
    assert.equal(Array.from(parseSwarmKey(formatSwarmKey(key, encoding))), Array.from(key), encoding)
  }
})

test('base16 is written exactly as @libp2p/pnet generateKey writes it', () => {
  const pnet = new Uint8Array(95)
  generateKey(pnet)
  const text = new TextDecoder().decode(pnet)
  assert.match(text, /^\/key\/swarm\/psk\/1\.0\.0\/\n\/base16\/\n[0-9a-f]{64}$/)
  const parsed = parseSwarmKey(pnet)
  assert.equal(new TextDecoder().decode(formatSwarmKey(parsed)), text)
})

test('read as go-libp2p reads: CRLF, white space, trailing newline, extra bytes after 32', () => {
  assert.equal(Array.from(parseSwarmKey(`/key/swarm/psk/1.0.0/\r\n/base16/\r\n${hex}\r\n`)), Array.from(key))
  assert.equal(Array.from(parseSwarmKey(` /key/swarm/psk/1.0.0/ \n /base16/ \n${hex}ffff\n`)), Array.from(key))
  const b64 = Buffer.from([...key, 1, 2, 3]).toString('base64')
  assert.equal(Array.from(parseSwarmKey(`/key/swarm/psk/1.0.0/\n/base64/\n${b64.slice(0, 20)}\n${b64.slice(20)}\n`)), Array.from(key))
})

test('bad keys are refused with the file named', () => {
  const refuse = (text: string, pattern: RegExp): void => {
    try { parseSwarmKey(text, '/etc/swarm.key'); assert.unreachable() } catch (err) {
      assert.instance(err, SwarmKeyError)
      assert.match((err as Error).message, /^\/etc\/swarm\.key: /)
      assert.match((err as Error).message, pattern)
    }
  }
  refuse('hello', /not a PSK v1 swarm key/)
  refuse(`/key/swarm/psk/1.0.0/\n/base32/\n${hex}`, /not a known key encoding/)
  refuse(`/key/swarm/psk/1.0.0/\n/base16/\n${hex.slice(0, 40)}`, /has 20 bytes; a swarm key needs 32/)
  refuse(`/key/swarm/psk/1.0.0/\n/base16/\nzz${hex.slice(2)}`, /not hexadecimal/)
  refuse(`/key/swarm/psk/1.0.0/\n/base64/\n***`, /not base64/)
})

test('parse errors never quote the file: key bytes on a misplaced line do not reach the message', () => {
  for (const text of [`${hex}\n/key/swarm/psk/1.0.0/\n/base16/`, `/key/swarm/psk/1.0.0/\n${hex}\n/base16/`, `  ${hex.slice(0, 30)}  `]) {
    try { parseSwarmKey(text, 'k'); assert.unreachable() } catch (err) {
      const message = (err as Error).message
      for (let i = 0; i + 8 <= 30; i++) assert.not.ok(message.includes(hex.slice(i, i + 8)), `no key text in: ${message}`)
    }
  }
})

test('fingerprints name keys without revealing them', () => {
  assert.is(fingerprint(key), fingerprint(new Uint8Array(key)))
  assert.is.not(fingerprint(key), fingerprint(generateSwarmKey()))
  assert.is(fingerprint(key).length, 16)
  assert.not.ok(hex.includes(fingerprint(key)))
})

test('key files are written atomically with mode 0600 and read back; a missing file is named', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dms-key-'))
  try {
    await writeSwarmKeyFile(join(dir, 'swarm.key'), key, 'base64')
    assert.is((await stat(join(dir, 'swarm.key'))).mode & 0o777, 0o600)
    assert.equal(Array.from(await readSwarmKeyFile(join(dir, 'swarm.key'))), Array.from(key))
    await writeFile(join(dir, 'bad.key'), 'nope')
    try { await readSwarmKeyFile(join(dir, 'bad.key')); assert.unreachable() } catch (err) { assert.match((err as Error).message, /bad\.key: not a PSK v1/) }
    try { await readSwarmKeyFile(join(dir, 'none.key')); assert.unreachable() } catch (err) { assert.match((err as Error).message, /none\.key: cannot read/) }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})

test.run()
