import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { addMembers, capacity, checkTable, closeTable, createTable, parseSubnet, removeMember, routesOf } from '../../machines/vpn-table.js'
import type { RoutingTable } from '../../machines/vpn-table.js'

const base = (hosts: string[], subnet = '10.88.0.0/24'): RoutingTable => createTable({ vpnId: 'v1', leader: 'L', subnet, hosts })
const ips = (t: RoutingTable): string[] => Object.values(t.members).map((m) => m.ip)

test('subnets: parsed, host bits and bad input refused with the reason', () => {
  const s = parseSubnet('10.88.0.0/24')
  assert.is(capacity(s), 254)
  assert.is(capacity(parseSubnet('192.168.4.0/30')), 2)
  assert.throws(() => parseSubnet('10.88.0.1/24'), /host bits set; did you mean 10\.88\.0\.0\/24/)
  for (const bad of ['10.88.0.0', '10.88.0.0/31', '10.88.0.0/7', '300.1.1.0/24', '10.88.0.0/24/1', 'x/24', '10.88.00.0/24', '']) {
    assert.throws(() => parseSubnet(bad), /IPv4 CIDR/, bad)
  }
})

test('the leader gets the first address, hosts the next ones in order', () => {
  const t = base(['A', 'B'])
  assert.equal(t.members.L!.ip, '10.88.0.1')
  assert.equal(t.members.A!.ip, '10.88.0.2')
  assert.equal(t.members.B!.ip, '10.88.0.3')
  assert.is(t.version, 1)
  assert.equal([...routesOf(t, 'A')], [['10.88.0.1', 'L'], ['10.88.0.3', 'B']])
})

test('adding keeps every existing IP; several at once never collide', () => {
  const t1 = base(['A', 'B'])
  const t2 = addMembers(t1, ['C', 'D', 'E', 'C'])
  for (const peer of ['L', 'A', 'B']) assert.is(t2.members[peer]!.ip, t1.members[peer]!.ip)
  assert.is(new Set(ips(t2)).size, 6)
  assert.is(t2.version, 2)
  assert.is(checkTable(t2), undefined)
})

test('a removed IP is not handed out again while a never-used one is left', () => {
  let t = removeMember(base(['A', 'B']), 'A')
  assert.equal(t.retired, ['10.88.0.2'])
  assert.is(t.members.A, undefined)
  t = addMembers(t, ['C'])
  assert.is(t.members.C!.ip, '10.88.0.4')
  // when the subnet is otherwise full, the oldest retired IP comes back
  let small = createTable({ vpnId: 'v', leader: 'L', subnet: '10.0.0.0/30', hosts: ['A'] })
  small = removeMember(small, 'A')
  small = addMembers(small, ['B'])
  assert.is(small.members.B!.ip, '10.0.0.2')
  assert.equal(small.retired, [])
  assert.throws(() => addMembers(small, ['C']), /is full \(2 members\)/)
})

test('checkTable refuses collisions, out-of-subnet IPs and junk', () => {
  const good = base(['A'])
  assert.is(checkTable(good), undefined)
  assert.is(checkTable(closeTable(good)), undefined)
  assert.match(checkTable({ ...good, members: { ...good.members, B: { ip: '10.88.0.1', addresses: [] } } })!, /collision/)
  assert.match(checkTable({ ...good, members: { ...good.members, B: { ip: '10.89.0.1', addresses: [] } } })!, /outside/)
  assert.match(checkTable({ ...good, members: { A: good.members.A! } })!, /leader is not a member/)
  assert.match(checkTable({ ...good, version: 0 })!, /version/)
  assert.match(checkTable({ ...good, members: { ...good.members, B: { ip: '10.88.0.9', addresses: ['x'.repeat(300)] } } })!, /addresses/)
  for (const junk of [null, 5, 'table', [], { ...good, subnet: 'nope' }, { ...good, closed: 'no' }]) assert.type(checkTable(junk), 'string')
})

test('member and leader ids are letters and digits: a terminal escape or a dotted name in a table is refused', () => {
  const good = createTable({ vpnId: 'v', leader: 'A', subnet: '10.9.0.0/24', hosts: ['B'] })
  for (const bad of ['\u001b[31mB', 'b.example', 'B C', '', 'x'.repeat(129)]) {
    const { B, ...rest } = good.members
    assert.is(checkTable({ ...good, members: { ...rest, [bad]: B! } }), 'bad member id', JSON.stringify(bad))
  }
  assert.is(checkTable({ ...good, leader: 'A\n' }), 'bad leader')
})

test.run()
