import { test } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { createTable } from '../../machines/vpn-table.js'
import { setName } from '../../machines/vpn-names.js'
import type { RoutingTable } from '../../machines/vpn-table.js'
import { VpnDns } from '../../runtime/vpn/vpn-dns.js'

// peer ids longer than any generated label: their stable names never collide with a record
const base = createTable({ vpnId: 'v', leader: 'PeerLeader1', subnet: '10.9.0.0/24', hosts: ['PeerMember1'] })
const dnsFor = (table: RoutingTable): VpnDns => new VpnDns({ table: () => table, self: () => 'PeerLeader1', requireLeader: () => {}, change: async () => {}, report: () => {}, enabled: false })

test('lookup, over generated sets of names: each record answers its IP, every name above one is empty, the rest unknown or not ours', () => {
  const label = fc.stringMatching(/^[a-z0-9]{1,6}$/)
  const name = fc.array(label, { minLength: 1, maxLength: 3 }).map((labels) => labels.join('.'))
  fc.assert(fc.property(fc.uniqueArray(name, { maxLength: 8 }), name, (records, probe) => {
    let table = base
    for (const record of records) table = setName(table, `${record}.dms`, '10.9.0.2')
    const dns = dnsFor(table)
    const full = new Set(Object.keys(table.names ?? {}))
    for (const record of full) assert.equal(dns.lookup(record), { ip: '10.9.0.2' })
    const asked = `${probe}.dms`
    const expected = full.has(asked) ? { ip: '10.9.0.2' } : [...full].some((known) => known.endsWith(`.${asked}`)) ? 'empty' : 'unknown'
    assert.equal(dns.lookup(asked), expected, asked)
    assert.is(dns.lookup('dms'), 'empty', 'the domain itself')
    assert.is(dns.lookup(`${probe}.example`), 'not-ours')
    assert.equal(dns.lookup('peerleader1.dms'), { ip: '10.9.0.1' }, 'the leader by its peer id (lower case)')
  }), { numRuns: 300 })
})

test.run()
