import { test } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { checkTable, createTable, setAddresses } from '../../machines/vpn-table.js'

const peers = ['leader', 'a', 'b', 'c']

test('generated address updates: only members change, a version only when something changed, never more than 8 addresses, the table stays valid', () => {
  const update = fc.dictionary(fc.constantFrom(...peers, 'stranger', '__proto__', 'constructor'), fc.array(fc.string({ maxLength: 40 }), { maxLength: 12 }))
  fc.assert(fc.property(fc.array(update, { maxLength: 10 }), (updates) => {
    let table = createTable({ vpnId: 'v', leader: 'leader', subnet: '10.9.0.0/24', hosts: peers.slice(1) })
    for (const addresses of updates) {
      const before = table
      let next
      try { next = setAddresses(before, addresses) } catch { next = undefined }
      if (next == null) {
        // refused only when no member's list changes
        for (const peer of peers) if (Object.hasOwn(addresses, peer)) assert.equal(addresses[peer]!.slice(0, 8), before.members[peer]!.addresses)
        continue
      }
      assert.is(next.version, before.version + 1)
      assert.equal(Object.keys(next.members).sort(), Object.keys(before.members).sort(), 'no member added or lost')
      for (const peer of peers) {
        assert.is(next.members[peer]!.ip, before.members[peer]!.ip, 'IPs never move')
        assert.ok(next.members[peer]!.addresses.length <= 8)
        if (Object.hasOwn(addresses, peer)) assert.equal(next.members[peer]!.addresses, addresses[peer]!.slice(0, 8))
        else assert.equal(next.members[peer]!.addresses, before.members[peer]!.addresses)
      }
      table = next
    }
    assert.is(checkTable(table), undefined)
  }), { numRuns: 300 })
})

test.run()
