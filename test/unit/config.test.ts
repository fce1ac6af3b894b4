import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { parseConfig } from '../../runtime/config.js'
import { DmsError } from '../../runtime/errors.js'

const rejects = (init: Parameters<typeof parseConfig>[0], pattern: RegExp): void => {
  try {
    parseConfig(init)
  } catch (err) {
    assert.instance(err, DmsError)
    assert.is((err as DmsError).code, 'CONFIG_INVALID')
    assert.match((err as Error).message, pattern)
    return
  }
  assert.unreachable(`config ${JSON.stringify(init)} was accepted`)
}

test('defaults are filled in', () => {
  const config = parseConfig({ dataDir: '/tmp/x' })
  assert.equal(config.listen, ['/ip4/127.0.0.1/tcp/0'])
  assert.equal(config.bootstrap, [])
  assert.is(config.maxFrameBytes, 1 << 20)
  assert.is(config.dialTimeoutMs, 5000)
  assert.is(config.networkName, 'dms')
})

test('a bad listen multiaddr is named in the error', () => {
  rejects({ listen: ['/ip4/127.0.0.1/tcpx/1'] }, /listen: bad multiaddr "\/ip4\/127.0.0.1\/tcpx\/1"/)
  rejects({ listen: ['localhost:4001'] }, /not a multiaddr/)
})

test('a port out of range is refused', () => {
  rejects({ listen: ['/ip4/127.0.0.1/tcp/70000'] }, /70000/)
})

test('bootstrap addresses need a peer id', () => {
  rejects({ bootstrap: ['/ip4/127.0.0.1/tcp/4001'] }, /has no \/p2p\/<peer id>/)
})

test('numbers must be positive whole numbers', () => {
  rejects({ dialTimeoutMs: -1 }, /dialTimeoutMs must be a whole number/)
  rejects({ maxFrameBytes: 1.5 }, /maxFrameBytes/)
  rejects({ requestTimeoutMs: 'soon' as unknown as number }, /requestTimeoutMs/)
})

test('every problem is reported at once', () => {
  rejects({ listen: ['nope'], dialTimeoutMs: 0, networkName: 'has space' }, /listen.*dialTimeoutMs.*networkName/)
})

test.run()
