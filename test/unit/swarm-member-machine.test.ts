import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { createActor, fromCallback, fromPromise, waitFor } from 'xstate'
import { swarmMemberMachine } from '../../machines/swarm-member.js'
import type { JoinNetworkInput, JoinOutcome, KeyAnswer, LeaveNetworkInput, RequestKeyInput, SwarmMemberEmitted, SwarmMemberEvent, WatchOwnerInput } from '../../machines/swarm-member.js'

/** The member machine with scripted effects: each key request takes the next answer, each join the next outcome. */
function harness (answers: Array<KeyAnswer | Error>, joins: JoinOutcome[] = []) {
  const calls: string[] = []
  const changes: string[] = []
  const done: Array<Extract<SwarmMemberEmitted, { type: 'swarm.command.done' }>> = []
  const logic = swarmMemberMachine.provide({
    actors: {
      requestKey: fromPromise<KeyAnswer, RequestKeyInput>(async ({ input }) => {
        calls.push(`request ${input.owner}`)
        const next = answers.shift() ?? new Error('no answer scripted')
        if (next instanceof Error) throw next
        return next
      }),
      joinNetwork: fromPromise<JoinOutcome, JoinNetworkInput>(async ({ input }) => { calls.push(`join e${input.epoch}`); return joins.shift() ?? { joined: true, addresses: ['/p'] } }),
      watchOwner: fromCallback<SwarmMemberEvent, WatchOwnerInput>(() => { calls.push('watch'); return () => { calls.push('unwatch') } }),
      leaveNetwork: fromPromise<void, LeaveNetworkInput>(async ({ input }) => { calls.push(input.tellOwner ? `leave, telling ${input.owner!} e${input.epoch}` : 'leave') })
    },
    delays: { rejoinDelay: 10 }
  })
  const actor = createActor(logic, { input: {} }).start()
  actor.on('swarm.command.done', (event) => { done.push(event) })
  actor.on('swarm.member.changed', (event) => { changes.push(`${event.change} e${event.epoch}`) })
  const settle = async (state: string): Promise<void> => { await waitFor(actor, (s) => s.matches(state as never), { timeout: 2000 }) }
  return { actor, calls, changes, done, settle }
}

const grant = (epoch: number): KeyAnswer => ({ granted: true, epoch, fingerprint: `f${epoch}`, bootstrap: ['/b'] })

test('join, a rotation notice, a rejected key and a leave: each a step the embedder hears about', async () => {
  const { actor, calls, changes, done, settle } = harness([grant(1), grant(3)])
  actor.send({ type: 'swarm.join', id: 'j', owner: 'O', ownerAddress: '/o' })
  await settle('joined')
  actor.send({ type: 'swarm.rotation', epoch: 2, fingerprint: 'f2', bootstrap: ['/b'] })
  await settle('joined')
  actor.send({ type: 'swarm.rotation', epoch: 1, fingerprint: 'old', bootstrap: [] })
  assert.is(actor.getSnapshot().context.epoch, 2, 'an older rotation notice is ignored')
  // the private network stops taking the key (a rotation this member missed): it asks again, by itself
  actor.send({ type: 'swarm.key.rejected' })
  await waitFor(actor, (s) => s.matches('joined') && s.context.epoch === 3, { timeout: 2000 })
  actor.send({ type: 'swarm.leave', id: 'l' })
  await settle('idle')
  assert.equal(calls, ['request O', 'join e1', 'watch', 'unwatch', 'join e2', 'watch', 'unwatch', 'request O', 'join e3', 'watch', 'unwatch', 'leave, telling O e3'])
  assert.equal(changes, ['joined e1', 'rotated e2', 'rotated e3', 'left e3'])
  assert.equal(done.map((d) => `${d.id}:${String(d.ok)}`), ['j:true', 'l:true'])
  assert.is(actor.getSnapshot().context.fingerprint, undefined, 'nothing of the swarm is kept after leaving')
})

test('a rejoin nobody waits for keeps asking an owner that does not answer; a not-authorised answer means evicted', async () => {
  const { actor, changes, settle } = harness([grant(1), new Error('owner restarting'), new Error('owner restarting'), { granted: false, reason: 'not-authorised' }])
  actor.send({ type: 'swarm.join', id: 'j', owner: 'O', ownerAddress: '/o' })
  await settle('joined')
  actor.send({ type: 'swarm.key.rejected' })
  await settle('idle')
  assert.equal(changes, ['joined e1', 'evicted e1'])
  assert.match(actor.getSnapshot().context.lastError ?? '', /denied: not-authorised/)
  assert.is(actor.getSnapshot().context.lastErrorCode, 'KEY_DENIED')
})

test('a first join that cannot reach the owner fails its caller at once; a denial says why', async () => {
  const unreachable = harness([new Error('dial failed')])
  unreachable.actor.send({ type: 'swarm.join', id: 'j', owner: 'O', ownerAddress: '/o' })
  await unreachable.settle('idle')
  assert.equal(unreachable.done, [{ type: 'swarm.command.done', id: 'j', ok: false, error: 'dial failed', code: 'SWARM_FAILED' }])
  const denied = harness([{ granted: false, reason: 'not-authorised' }])
  denied.actor.send({ type: 'swarm.join', id: 'j', owner: 'O', ownerAddress: '/o' })
  await denied.settle('idle')
  assert.equal(denied.done.map((d) => d.code), ['KEY_DENIED'])
  assert.equal(denied.changes, [], 'never in: nothing to announce')
})

test('an eviction notice while joined takes the member out and says so', async () => {
  const { actor, changes, calls, settle } = harness([grant(4)])
  actor.send({ type: 'swarm.join', id: 'j', owner: 'O', ownerAddress: '/o' })
  await settle('joined')
  actor.send({ type: 'swarm.evicted', epoch: 4 })
  await settle('idle')
  assert.equal(changes, ['joined e4', 'evicted e4'])
  assert.ok(calls.includes('leave'), 'evicted: out without telling the owner, who knows')
  assert.match(actor.getSnapshot().context.lastError ?? '', /evicted by the owner at epoch 4/)
})

test('rotations back to back: a notice that comes while a join is under way is taken when that join ends, in epoch order', async () => {
  let release: () => void = () => {}
  const gate = new Promise<void>((resolve) => { release = resolve })
  const joined: number[] = []
  const logic = swarmMemberMachine.provide({
    actors: {
      requestKey: fromPromise<KeyAnswer, RequestKeyInput>(async () => grant(1)),
      joinNetwork: fromPromise<JoinOutcome, JoinNetworkInput>(async ({ input }) => {
        if (input.epoch === 2) await gate
        joined.push(input.epoch)
        return { joined: true, addresses: ['/p'] }
      }),
      watchOwner: fromCallback<SwarmMemberEvent, WatchOwnerInput>(() => () => {}),
      leaveNetwork: fromPromise<void, LeaveNetworkInput>(async () => {})
    }
  })
  const actor = createActor(logic, { input: {} }).start()
  const changes: string[] = []
  actor.on('swarm.member.changed', (event) => { changes.push(`${event.change} e${event.epoch}`) })
  actor.send({ type: 'swarm.join', id: 'j', owner: 'O', ownerAddress: '/o' })
  await waitFor(actor, (s) => s.matches('joined'), { timeout: 2000 })
  actor.send({ type: 'swarm.rotation', epoch: 2, fingerprint: 'f2', bootstrap: ['/b'] })
  assert.ok(actor.getSnapshot().matches('joining'))
  const rotation3 = { type: 'swarm.rotation' as const, epoch: 3, fingerprint: 'f3', bootstrap: ['/b3'] }
  assert.ok(actor.getSnapshot().can(rotation3), 'a newer notice is acknowledged while joining')
  actor.send(rotation3)
  assert.not.ok(actor.getSnapshot().can({ type: 'swarm.rotation', epoch: 3, fingerprint: 'f3', bootstrap: [] }), 'the same epoch twice is not')
  assert.not.ok(actor.getSnapshot().can({ type: 'swarm.rotation', epoch: 2, fingerprint: 'x', bootstrap: [] }), 'nor an older one')
  release()
  await waitFor(actor, (s) => s.matches('joined') && s.context.epoch === 3, { timeout: 2000 })
  assert.equal(joined, [1, 2, 3], 'each key switched in order, none skipped or doubled')
  assert.equal(changes, ['joined e1', 'rotated e2', 'rotated e3'])
  assert.is(actor.getSnapshot().context.fingerprint, 'f3')
  assert.equal(actor.getSnapshot().context.bootstrap, ['/b3'])
  assert.is(actor.getSnapshot().context.nextRotation, undefined)
})

test('a join whose key the owner no longer takes goes on with a newer notice that came meanwhile, not a new request', async () => {
  let release: () => void = () => {}
  const gate = new Promise<void>((resolve) => { release = resolve })
  const calls: string[] = []
  const logic = swarmMemberMachine.provide({
    actors: {
      requestKey: fromPromise<KeyAnswer, RequestKeyInput>(async () => { calls.push('request'); return grant(1) }),
      joinNetwork: fromPromise<JoinOutcome, JoinNetworkInput>(async ({ input }) => {
        calls.push(`join e${input.epoch}`)
        if (input.epoch === 1) { await gate; return { joined: false } }
        return { joined: true, addresses: ['/p'] }
      }),
      watchOwner: fromCallback<SwarmMemberEvent, WatchOwnerInput>(() => () => {}),
      leaveNetwork: fromPromise<void, LeaveNetworkInput>(async () => {})
    }
  })
  const actor = createActor(logic, { input: {} }).start()
  actor.send({ type: 'swarm.join', id: 'j', owner: 'O', ownerAddress: '/o' })
  await waitFor(actor, (s) => s.matches('joining'), { timeout: 2000 })
  actor.send({ type: 'swarm.rotation', epoch: 2, fingerprint: 'f2', bootstrap: ['/b2'] })
  release()
  await waitFor(actor, (s) => s.matches('joined'), { timeout: 2000 })
  assert.equal(calls, ['request', 'join e1', 'join e2'])
  assert.is(actor.getSnapshot().context.epoch, 2)
})

test.run()
