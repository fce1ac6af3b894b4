import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { createActor, fromCallback, fromPromise, waitFor } from 'xstate'
import { vpnMachine } from '../../machines/vpn.js'
import type { VpnDataPlaneInput, VpnDeviceInput, VpnRecordEvent, VpnRoutesEvent, VpnTearDownInput } from '../../machines/vpn.js'
import { addMembers, createTable, removeMember } from '../../machines/vpn-table.js'

/** The machine with recording device actors: what would happen to the TUN device and the pump. */
function harness (self: string, options: { failBringUp?: string } = {}) {
  const log: string[] = []
  /** What the recorder was told: every state, and every table version in it. */
  const records: string[] = []
  const logic = vpnMachine.provide({
    actors: {
      bringUp: fromPromise<'public' | 'private', VpnDeviceInput>(async ({ input }) => {
        if (options.failBringUp != null) throw new Error(options.failBringUp)
        log.push(`up ${input.table.members[input.self]!.ip}`)
        return 'public' as const
      }),
      tearDown: fromPromise<void, VpnTearDownInput>(async ({ input }) => { log.push(`down ${input.reason}`) }),
      recorder: fromCallback<VpnRecordEvent, { self: string }>(({ receive }) => {
        receive((event) => { records.push(`${event.state}${event.table != null ? ` v${event.table.version}` : ''}`) })
      }),
      dataPlane: fromCallback<VpnRoutesEvent, VpnDataPlaneInput>(({ input, receive }) => {
        log.push(`pump v${input.table.version}`)
        receive((event) => { log.push(`routes v${event.table.version}`) })
        return () => { log.push('pump stopped') }
      })
    }
  })
  const actor = createActor(logic, { input: { self } }).start()
  return { actor, log, records, settle: async (state: string) => await waitFor(actor, (s) => s.matches(state as never), { timeout: 1000 }) }
}

test('leader: start allocates, brings the device up, runs the pump; add/remove push routes', async () => {
  const { actor, log, records, settle } = harness('L')
  actor.send({ type: 'vpn.start', vpnId: 'v', subnet: '10.88.0.0/24', hosts: ['A', 'B'], addresses: {} })
  await settle('running')
  assert.equal(actor.getSnapshot().context.table!.members.B!.ip, '10.88.0.3')
  actor.send({ type: 'vpn.addPeer', peers: ['C'], addresses: {} })
  actor.send({ type: 'vpn.removePeer', peer: 'A' })
  actor.send({ type: 'vpn.removePeer', peer: 'L' }) // the leader cannot remove itself: ignored
  actor.send({ type: 'vpn.removePeer', peer: 'nobody' }) // unknown: ignored
  const table = actor.getSnapshot().context.table!
  assert.is(table.version, 3)
  assert.equal(Object.keys(table.members).sort(), ['B', 'C', 'L'])
  // the recorder (sign, persist, publish, announce) hears every state and every version, in order
  assert.equal(records, ['stopped', 'starting v1', 'running v1', 'running v2', 'running v3'])
  assert.is(actor.getSnapshot().context.network, 'public', 'the host the device came up on is in context')
  actor.send({ type: 'vpn.stop' })
  await settle('stopped')
  assert.equal(log, ['up 10.88.0.1', 'pump v1', 'routes v2', 'routes v3', 'pump stopped', 'down local'])
  assert.is(actor.getSnapshot().context.table, undefined)
})

test('a full subnet refuses more peers without failing the machine', async () => {
  const { actor, settle } = harness('L')
  actor.send({ type: 'vpn.start', vpnId: 'v', subnet: '10.0.0.0/30', hosts: ['A'], addresses: {} })
  await settle('running')
  actor.send({ type: 'vpn.addPeer', peers: ['B'], addresses: {} })
  assert.ok(actor.getSnapshot().matches('running'))
  assert.is(actor.getSnapshot().context.table!.version, 1)
  assert.is(actor.getSnapshot().context.table!.members.B, undefined)
})

test('member: invited by a table with it, applies only newer versions, stops when left out', async () => {
  const { actor, log, settle } = harness('A')
  const v1 = createTable({ vpnId: 'v', leader: 'L', subnet: '10.88.0.0/24', hosts: ['A'] })
  actor.send({ type: 'vpn.table', table: { ...v1, members: { L: v1.members.L! } } }) // an invitation without us: ignored
  assert.ok(actor.getSnapshot().matches('stopped'))
  actor.send({ type: 'vpn.table', table: v1 })
  await settle('running')
  const v2 = addMembers(v1, ['B'])
  const v3 = addMembers(v2, ['C'])
  actor.send({ type: 'vpn.table', table: v3 })
  actor.send({ type: 'vpn.table', table: v2 }) // out of order: older, ignored
  actor.send({ type: 'vpn.table', table: { ...addMembers(v3, ['D']), vpnId: 'other' } }) // another VPN: ignored
  actor.send({ type: 'vpn.addPeer', peers: ['X'], addresses: {} }) // only the leader allocates: ignored
  assert.is(actor.getSnapshot().context.table!.version, 3)
  actor.send({ type: 'vpn.table', table: removeMember(v3, 'A') })
  await settle('stopped')
  assert.equal(log, ['up 10.88.0.2', 'pump v1', 'routes v3', 'pump stopped', 'down removed'])
})

test('a device that cannot come up fails with the reason; stop from failed cleans up', async () => {
  const { actor, log, settle } = harness('L', { failBringUp: 'TUN devices are not available: no root' })
  actor.send({ type: 'vpn.start', vpnId: 'v', subnet: '10.88.0.0/24', hosts: ['A'], addresses: {} })
  await settle('failed')
  assert.match(actor.getSnapshot().context.lastError!, /no root/)
  actor.send({ type: 'vpn.addPeer', peers: ['B'], addresses: {} })
  assert.is(actor.getSnapshot().context.table!.version, 1)
  actor.send({ type: 'vpn.stop' })
  await settle('stopped')
  assert.equal(log, ['down local'])
})

test('names: the leader\'s valid changes become new versions the pump and recorder see; a member\'s or a bad one changes nothing', async () => {
  const { actor, log, records, settle } = harness('L')
  actor.send({ type: 'vpn.start', vpnId: 'v', subnet: '10.88.0.0/24', hosts: ['A'], addresses: {}, domain: 'corp' })
  await settle('running')
  actor.send({ type: 'vpn.dns.set', name: 'web', ip: '10.88.0.2' })
  assert.equal(actor.getSnapshot().context.table!.names, { 'web.corp': '10.88.0.2' })
  assert.is(actor.getSnapshot().context.table!.version, 2)
  for (const bad of [{ name: 'web', ip: '10.88.0.9' }, { name: 'x.dms', ip: '10.88.0.2' }, { name: 'bad name', ip: '10.88.0.2' }]) actor.send({ type: 'vpn.dns.set', ...bad })
  actor.send({ type: 'vpn.dns.remove', name: 'nobody' })
  assert.is(actor.getSnapshot().context.table!.version, 2, 'refused changes leave the table as it was')
  actor.send({ type: 'vpn.dns.remove', name: 'web.corp' })
  assert.equal(actor.getSnapshot().context.table!.names, {})
  assert.ok(log.includes('routes v3') && records.includes('running v3'))

  const member = harness('A')
  member.actor.send({ type: 'vpn.table', table: actor.getSnapshot().context.table! })
  await member.settle('running')
  member.actor.send({ type: 'vpn.dns.set', name: 'mine', ip: '10.88.0.2' })
  assert.is(member.actor.getSnapshot().context.table!.names?.['mine.corp'], undefined, 'only the leader names')
})

test.run()
