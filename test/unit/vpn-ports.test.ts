import { test } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { createTable, checkTable, removeMember } from '../../machines/vpn-table.js'
import { publishPort, unpublishPort, MAX_PORTS } from '../../machines/vpn-ports.js'
import type { PublishedPort } from '../../machines/vpn-ports.js'

const table = createTable({ vpnId: 'v1', leader: 'A', subnet: '10.9.0.0/24', hosts: ['B', 'C'] })
const web: PublishedPort = { at: 'A', protocol: 'tcp', port: 8080, to: { ip: '10.9.0.2', port: 80 } }

test('publish and unpublish: one entry per member, protocol and port; the version grows', () => {
  const published = publishPort(table, web)
  assert.is(published.version, table.version + 1)
  assert.equal(published.ports, [web])
  assert.throws(() => publishPort(published, { ...web, to: { ip: '10.9.0.3', port: 81 } }), /published already/)
  assert.equal(publishPort(published, { ...web, protocol: 'udp' }).ports?.length, 2, 'udp and tcp are separate slots')
  assert.equal(unpublishPort(published, web).ports, [])
  assert.throws(() => unpublishPort(table, web), /no tcp\/8080 is published on A/)
})

test('bad entries are refused with the reason', () => {
  for (const [entry, reason] of [
    [{ ...web, port: 0 }, /port must be/], [{ ...web, port: 65536 }, /port must be/], [{ ...web, port: 1.5 }, /port must be/],
    [{ ...web, protocol: 'sctp' }, /protocol must be tcp or udp/], [{ ...web, at: 'Z' }, /is not a member/], [{ ...web, at: 'constructor' }, /is not a member/],
    [{ ...web, to: { ip: '10.9.0.99', port: 80 } }, /no member's address/], [{ ...web, to: { ip: '10.9.0.2', port: -1 } }, /to must be/]
  ] as const) assert.throws(() => publishPort(table, entry as PublishedPort), reason)
  let full = table
  for (let i = 1; i <= MAX_PORTS; i++) full = publishPort(full, { ...web, port: i })
  assert.throws(() => publishPort(full, { ...web, port: 60000 }), /at most 256/)
})

test('a removed member takes the ports published on it and to it', () => {
  const both = publishPort(publishPort(table, web), { at: 'C', protocol: 'udp', port: 53, to: { ip: '10.9.0.1', port: 5353 } })
  assert.equal(removeMember(both, 'B').ports, [{ at: 'C', protocol: 'udp', port: 53, to: { ip: '10.9.0.1', port: 5353 } }], 'the port to B goes')
  assert.equal(removeMember(both, 'C').ports, [web], 'the port on C goes')
})

test('tables from the wire: any bad published port is refused, good ones pass', () => {
  assert.is(checkTable(publishPort(table, web)), undefined)
  fc.assert(fc.property(fc.anything(), (junk) => {
    const problem = checkTable({ ...table, ports: [junk] })
    assert.type(problem, 'string')
  }), { numRuns: 500 })
  assert.type(checkTable({ ...table, ports: [web, web] }), 'string', 'twice')
  assert.type(checkTable({ ...table, ports: 'x' }), 'string')
})

test.run()
