import { test } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { createTable, checkTable, removeMember } from '../../machines/vpn-table.js'
import { addRule, inboundRules, removeRule, setGroups, setPolicy } from '../../machines/vpn-policy.js'

const base = createTable({ vpnId: 'v1', leader: 'A', subnet: '10.9.0.0/24', hosts: ['B', 'C'] })
const grouped = setGroups(setGroups(setPolicy(base, true), 'B', ['web']), 'C', ['db'])

test('inbound rules: who may open what on each member, by group, member or everyone; off means no filter', () => {
  assert.is(inboundRules(base, 'C'), undefined, 'no policy: nothing to enforce')
  assert.equal(inboundRules(grouped, 'C'), [], 'policy on, no rules: everything is denied')
  const ruled = addRule(addRule(grouped, { from: 'group:web', to: 'group:db', protocol: 'tcp', ports: [5432, 5432] }), { from: '*', to: '*', protocol: 'icmp' })
  assert.equal(inboundRules(ruled, 'C'), [{ from: ['10.9.0.2'], protocol: 'tcp', ports: [5432, 5432] }, { from: ['10.9.0.1', '10.9.0.2'], protocol: 'icmp' }])
  assert.equal(inboundRules(ruled, 'B'), [{ from: ['10.9.0.1', '10.9.0.3'], protocol: 'icmp' }], 'directional: db may not open to web')
  assert.equal(inboundRules(removeRule(ruled, 0), 'C'), [{ from: ['10.9.0.1', '10.9.0.2'], protocol: 'icmp' }])
  assert.is(setPolicy(ruled, false).policy, undefined)
})

test('groups and rules are checked; a removed member leaves its groups and its rules', () => {
  assert.throws(() => setGroups(grouped, 'Z', ['web']), /not a member/)
  assert.throws(() => setGroups(grouped, 'B', ['Bad Name']), /bad group/)
  assert.equal(setGroups(grouped, 'B', []).policy!.groups, { db: ['C'] })
  assert.throws(() => addRule(base, { from: '*', to: '*', protocol: 'any' }), /policy is off/)
  for (const [rule, reason] of [
    [{ from: 'group:none', to: '*', protocol: 'any' }, /no group/], [{ from: 'Z', to: '*', protocol: 'any' }, /not a member/],
    [{ from: '*', to: '*', protocol: 'sctp' }, /protocol must be/], [{ from: '*', to: '*', protocol: 'icmp', ports: [1, 2] }, /ports go with tcp or udp/],
    [{ from: '*', to: '*', protocol: 'tcp', ports: [9, 1] }, /ports must be/]
  ] as const) assert.throws(() => addRule(grouped, rule as never), reason)
  // names of built-in object properties are no groups or members
  for (const who of ['group:constructor', 'group:toString', 'constructor', 'toString', '__proto__']) {
    assert.throws(() => addRule(grouped, { from: who, to: '*', protocol: 'any' }), /no group|not a member/, who)
  }
  assert.throws(() => setGroups(grouped, 'constructor', ['web']), /not a member/)
  assert.type(checkTable({ ...grouped, policy: { groups: {}, rules: [{ from: '*', to: 'group:constructor', protocol: 'any' }] } }), 'string')
  assert.type(checkTable({ ...grouped, policy: { groups: { web: ['toString'] }, rules: [] } }), 'string')
  const ruled = addRule(grouped, { from: 'B', to: 'group:db', protocol: 'any' })
  const without = removeMember(ruled, 'B')
  assert.equal(without.policy!.rules, [], 'a rule naming the removed member by id goes')
  assert.equal(without.policy!.groups.web, [])
  assert.is(checkTable(without), undefined)
})

test('tables from the wire with a bad policy are refused', () => {
  assert.is(checkTable(grouped), undefined)
  fc.assert(fc.property(fc.anything(), (junk) => { assert.type(checkTable({ ...grouped, policy: { groups: {}, rules: [junk] } }), 'string') }), { numRuns: 500 })
  assert.type(checkTable({ ...grouped, policy: { groups: { web: ['Z'] }, rules: [] } }), 'string', 'a group of non-members')
  assert.type(checkTable({ ...grouped, policy: 'on' }), 'string')
})

test.run()
