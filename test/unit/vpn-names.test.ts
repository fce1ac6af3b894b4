import { test } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import * as dnsPacket from 'dns-packet'
import { createTable, checkTable, removeMember } from '../../machines/vpn-table.js'
import { checkDomain, normaliseName, removeName, setName, MAX_NAMES } from '../../machines/vpn-names.js'
import { answerQuery } from '../../actors/vpn/dns-answer.js'
import type { Lookup } from '../../actors/vpn/dns-answer.js'

const table = createTable({ vpnId: 'v1', leader: 'A', subnet: '10.9.0.0/24', hosts: ['B', 'C'] })

test('names are normalised into the domain; labels, length and domain are checked', () => {
  assert.is(normaliseName('Web', 'dms'), 'web.dms')
  assert.is(normaliseName('api.web.dms.', 'dms'), 'api.web.dms')
  for (const bad of ['', 'bad_name', '-x', 'x-', 'a..b', 'a'.repeat(64), `${'a.'.repeat(130)}dms`, 'x.other']) {
    assert.throws(() => normaliseName(bad, 'dms'), /bad name|outside the subnet's domain/, bad)
  }
  assert.throws(() => normaliseName(42, 'dms'), /must be a string/)
  assert.is(checkDomain('Corp.Example.'), 'corp.example')
  assert.throws(() => checkDomain('bad domain'), /bad domain/)
})

test('records point at members only, move, go with their member, and bump the version', () => {
  const named = setName(table, 'web', '10.9.0.2')
  assert.is(named.version, table.version + 1)
  assert.equal(named.names, { 'web.dms': '10.9.0.2' })
  assert.is(setName(named, 'web', '10.9.0.2'), named, 'the same record again changes nothing')
  assert.equal(setName(named, 'web', '10.9.0.3').names, { 'web.dms': '10.9.0.3' }, 'a record moves')
  assert.throws(() => setName(table, 'db', '10.9.0.99'), /no member's address/)
  assert.throws(() => removeName(table, 'nope'), /no name nope\.dms/)
  assert.equal(removeName(named, 'WEB').names, {})
  assert.equal(removeMember(named, 'B').names, {}, 'a removed member takes its names')
  let full = table
  for (let i = 0; i < MAX_NAMES; i++) full = setName(full, `n${i}`, '10.9.0.1')
  assert.throws(() => setName(full, 'one-more', '10.9.0.1'), /at most 1024 names/)
})

test('a table from the wire with bad names is refused', () => {
  assert.is(checkTable(setName(table, 'web', '10.9.0.2')), undefined)
  for (const names of [{ 'web.dms': '10.9.0.99' }, { 'WEB.dms': '10.9.0.2' }, { 'web.other': '10.9.0.2' }, { 'bad_x.dms': '10.9.0.2' }, [], 'x', { 'web.dms': 7 }]) {
    assert.type(checkTable({ ...table, names }), 'string', JSON.stringify(names))
  }
  assert.type(checkTable({ ...table, domain: 'Not Canonical' }), 'string')
})

const lookup = (name: string): Lookup => name === 'web.dms' ? { ip: '10.9.0.2' } : name === 'dms' ? 'empty' : name.endsWith('.dms') ? 'unknown' : 'not-ours'
const query = (name: string, type = 'A', flags = 0): Uint8Array => dnsPacket.encode({ type: 'query', id: 7, flags, questions: [{ type: type as 'A', name }] })
const decoded = (bytes?: Uint8Array): dnsPacket.DecodedPacket & { rcode: string } => dnsPacket.decode(Buffer.from(bytes!)) as dnsPacket.DecodedPacket & { rcode: string }

test('queries are answered authoritatively for the domain only', () => {
  const ok = decoded(answerQuery(query('WEB.dms.'), lookup).reply)
  assert.is(ok.rcode, 'NOERROR')
  assert.is(ok.id, 7)
  assert.ok(ok.flag_aa)
  assert.equal(ok.answers?.map((a) => (a as { data: string }).data), ['10.9.0.2'])
  assert.is(decoded(answerQuery(query('web.dms', 'AAAA'), lookup).reply).rcode, 'NOERROR', 'AAAA of a known name: no data')
  assert.is(decoded(answerQuery(query('nobody.dms'), lookup).reply).rcode, 'NXDOMAIN')
  const apex = decoded(answerQuery(query('dms'), lookup).reply)
  assert.is(apex.rcode, 'NOERROR', 'the domain itself exists (RFC 8020: never NXDOMAIN above real names)')
  assert.is(apex.answers?.length ?? 0, 0)
  const odd = answerQuery(Buffer.from(dnsPacket.encode({ type: 'query', id: 9, questions: [{ type: 'A', name: `${'\u00ff'.repeat(60)}.dms` }] })), lookup)
  assert.is(odd.outcome, 'malformed')
  assert.ok(odd.reply!.byteLength <= 12, 'a name no subnet name could be gets a bare FORMERR: no amplification')
  assert.is(decoded(answerQuery(query('example.com'), lookup).reply).rcode, 'REFUSED', 'never forwarded')
  const response = Buffer.from(query('web.dms'))
  response.writeUInt16BE(response.readUInt16BE(2) | 0x8000, 2)
  assert.is(answerQuery(response, lookup).reply, undefined, 'a response is never answered (no loops between servers)')
  assert.is(answerQuery(new Uint8Array(5), lookup).reply, undefined, 'no header: no reply')
  assert.is(answerQuery(new Uint8Array(600), lookup).outcome, 'malformed', 'oversized')
})

test('hostile bytes never throw and never get an answer with data', () => {
  fc.assert(fc.property(fc.uint8Array({ minLength: 0, maxLength: 600 }), (bytes) => {
    const { reply, outcome } = answerQuery(bytes, lookup)
    if (reply != null && outcome !== 'answered') assert.is(decoded(reply).answers?.length ?? 0, 0)
  }), { numRuns: 3000 })
  // a well-formed header with lying counts and truncated questions
  fc.assert(fc.property(fc.integer({ min: 0, max: 65535 }), fc.uint8Array({ maxLength: 40 }), (count, tail) => {
    const header = Buffer.alloc(12)
    header.writeUInt16BE(1, 0)
    header.writeUInt16BE(count, 4)
    const { outcome } = answerQuery(Buffer.concat([header, tail]), lookup)
    assert.ok(['malformed', 'refused', 'nxdomain', 'nodata', 'answered', 'notimp'].includes(outcome))
  }), { numRuns: 2000 })
})

test.run()
