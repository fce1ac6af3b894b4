import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { decodePunch, encodePunch, parsePunchAddress } from '../../actors/discovery/hole-punch-wire.js'
import { parseBindingResponse, parseStunServer } from '../../actors/discovery/stun.js'

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text)

test('hole punch frames: connect with an address or a reason, sync, ping and pong, round-trip', () => {
  for (const message of [{ type: 'connect', address: '11.77.0.101:43706' }, { type: 'connect', reason: 'NAT changes ports' }, { type: 'sync' }, { type: 'ping' }, { type: 'pong' }] as const) {
    assert.equal(decodePunch(encodePunch(message)), message)
  }
})

test('hole punch frames: anything else is refused with a clear error', () => {
  const refused: Array<[string, RegExp]> = [
    ['not json', /not JSON/],
    ['[1,2]', /not an object/],
    ['{"type":"hello"}', /not a connect, sync, ping or pong/],
    ['{"type":"sync","extra":1}', /not a connect, sync, ping or pong/],
    ['{"type":"ping","at":1}', /not a connect, sync, ping or pong/],
    ['{"type":"ready"}', /not a connect, sync, ping or pong/],
    ['{"type":"connect"}', /not a connect, sync, ping or pong/],
    ['{"type":"connect","address":"11.77.0.1:4001","reason":"x"}', /not a connect, sync, ping or pong/],
    [`{"type":"connect","reason":"${'x'.repeat(201)}"}`, /not a connect, sync, ping or pong/],
    ['{"type":"connect","address":"127.0.0.1:4001"}', /not a public IPv4 host:port/],
    ['{"type":"connect","address":"11.77.0.1:22"}', /not a public IPv4 host:port/]
  ]
  for (const [text, error] of refused) assert.throws(() => decodePunch(bytes(text)), error, text)
  assert.throws(() => decodePunch(new Uint8Array([0xff, 0xfe])), /not JSON/)
})

test('a peer\'s reason reaches the terminal with its control characters escaped', () => {
  const decoded = decodePunch(bytes(JSON.stringify({ type: 'connect', reason: '\u001b[2J\nrelayed fake line' })))
  assert.equal(decoded, { type: 'connect', reason: '\\u001b[2J\\u000arelayed fake line' })
})

test('a peer may only have us dial a public unicast IPv4 address on an unprivileged port', () => {
  assert.equal(parsePunchAddress('11.77.0.101:43706'), { ip: '11.77.0.101', port: 43706 })
  assert.equal(parsePunchAddress('8.8.8.8:1024'), { ip: '8.8.8.8', port: 1024 })
  // never into a private network (ours, for one): 10/8, 172.16/12, 192.168/16, link-local, shared, documentation
  for (const bad of ['10.0.0.1:5000', '172.16.0.9:5000', '192.168.1.10:6379', '169.254.1.1:5000', '100.64.0.1:5000', '203.0.113.9:5000', '127.0.0.1:5000', '0.0.0.0:5000', '224.0.0.1:5000', '255.255.255.255:5000', '11.77.0.1:1023', '11.77.0.1:65536', '11.77.0.256:5000', '[::1]:5000', 'host:5000', '11.77.0.1']) {
    assert.is(parsePunchAddress(bad), undefined, bad)
  }
})

/** A Binding success response carrying `attributes`, for `transaction`. */
function response (transaction: Buffer, attributes: Buffer[], type = 0x0101): Buffer {
  const body = Buffer.concat(attributes)
  const header = Buffer.alloc(20)
  header.writeUInt16BE(type, 0)
  header.writeUInt16BE(body.length, 2)
  header.writeUInt32BE(0x2112a442, 4)
  transaction.copy(header, 8)
  return Buffer.concat([header, body])
}
const attribute = (type: number, value: Buffer): Buffer => {
  const head = Buffer.alloc(4)
  head.writeUInt16BE(type, 0)
  head.writeUInt16BE(value.length, 2)
  return Buffer.concat([head, value, Buffer.alloc((4 - value.length % 4) % 4)])
}
const xorMapped = (ip: number[], port: number): Buffer => {
  const value = Buffer.alloc(8)
  value[1] = 0x01
  value.writeUInt16BE(port ^ 0x2112, 2)
  value.writeUInt32BE((((ip[0]! << 24) | (ip[1]! << 16) | (ip[2]! << 8) | ip[3]!) ^ 0x2112a442) >>> 0, 4)
  return value
}

test('STUN: the XOR-mapped address of a Binding success response, skipping unknown attributes', () => {
  const transaction = Buffer.from('0123456789ab')
  const software = attribute(0x8022, Buffer.from('Coturn-4.6.1'))
  assert.equal(parseBindingResponse(response(transaction, [software, attribute(0x0020, xorMapped([11, 77, 0, 101], 43706))]), transaction), { ip: '11.77.0.101', port: 43706 })
  // an old server's plain MAPPED-ADDRESS
  const plain = Buffer.from([0, 1, 0x13, 0x88, 11, 77, 0, 102])
  assert.equal(parseBindingResponse(response(transaction, [attribute(0x0001, plain)]), transaction), { ip: '11.77.0.102', port: 5000 })
})

test('STUN: another transaction, an error response, no address or a short message are refused', () => {
  const transaction = Buffer.from('0123456789ab')
  const mapped = attribute(0x0020, xorMapped([11, 77, 0, 101], 43706))
  assert.throws(() => parseBindingResponse(response(Buffer.from('ba9876543210'), [mapped]), transaction), /another request/)
  assert.throws(() => parseBindingResponse(response(transaction, [mapped], 0x0111), transaction), /not a STUN Binding success/)
  assert.throws(() => parseBindingResponse(response(transaction, []), transaction), /without a mapped IPv4 address/)
  assert.throws(() => parseBindingResponse(Buffer.alloc(10), transaction), /not a STUN Binding success/)
  assert.equal(parseStunServer('11.77.0.1:3478'), { host: '11.77.0.1', port: 3478 })
  assert.throws(() => parseStunServer('11.77.0.1'), /host:port/)
})

test.run()
