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

const NUMBERS = ['dialTimeoutMs', 'redialBaseMs', 'redialMaxMs', 'forgetPeersAfterMs', 'maxKnownPeers', 'maxFrameBytes',
  'requestTimeoutMs', 'maxBufferedBytesPerPeer', 'maxBufferedBytes', 'frameDeadlineMs'] as const

test('every number option: hostile values are refused naming it, and the range the error states is the range accepted', () => {
  // (maxBufferedBytes once stated "from 1 to 0": its bound was 8 << 30, which is 0 in 32 bits, so no value was taken)
  const hostile: unknown[] = [0, -1, 1.5, Number.NaN, Infinity, -Infinity, '5', null, {}, [], true, 2 ** 53, Number.MAX_VALUE]
  // redialMaxMs may not be below redialBaseMs: leave room on both sides while one option is probed
  const parse = (field: string, value: unknown): ReturnType<typeof parseConfig> => parseConfig({ redialBaseMs: 1, redialMaxMs: 3_600_000, [field]: value })
  for (const field of NUMBERS) {
    for (const value of hostile) rejects({ [field]: value } as never, new RegExp(`${field} must be a whole number from 1 to \\d+`))
    let stated = ''
    try { parse(field, 0) } catch (err) { stated = (err as Error).message }
    const max = Number(new RegExp(`${field} must be a whole number from 1 to (\\d+)`).exec(stated)?.[1])
    const fallback = parseConfig({})[field]
    assert.ok(max >= fallback, `${field}: the stated maximum ${max} is below the default ${fallback}`)
    for (const value of [1, fallback, max]) assert.is(parse(field, value)[field], value, `${field} = ${value} is in the stated range`)
    rejects({ [field]: max + 1 } as never, new RegExp(field))
  }
})

test('redialMaxMs below redialBaseMs is refused; so are a dataDir that is not a path and listen addresses of transports the node lacks', () => {
  rejects({ redialBaseMs: 10_000, redialMaxMs: 100 }, /redialMaxMs \(100\) must not be below redialBaseMs \(10000\)/)
  for (const dataDir of [5, {}, '', null, ['a']]) rejects({ dataDir } as never, /dataDir must be a non-empty path/)
  rejects({ listen: ['/ip4/127.0.0.1/tcp/0/ws'] }, /listens on TCP only \(no ws\)/)
  rejects({ listen: ['/ip4/127.0.0.1/udp/0/quic-v1'] }, /listens on TCP only \(no udp\)/)
  rejects({ listen: ['/ip4/127.0.0.1'] }, /has no \/tcp\/<port>/)
  assert.equal(parseConfig({ listen: ['/ip6/::1/tcp/0', '/dns4/localhost/tcp/0', '/p2p-circuit'] }).listen.length, 3)
})

test('every problem is reported at once', () => {
  rejects({ listen: ['nope'], dialTimeoutMs: 0, networkName: 'has space' }, /listen.*dialTimeoutMs.*networkName/)
})

test.run()
