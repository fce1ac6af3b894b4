import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { createActor, fromPromise, waitFor } from 'xstate'
import { swarmOwnerMachine, MAX_QUEUED_GRANTS } from '../../machines/swarm-owner.js'
import type { AnswerRequestInput, DistributeKeyInput, EvictMemberInput, KeyDistributed, NetworkCreated, SaveOwnerInput, SwarmOwnerEmitted } from '../../machines/swarm-owner.js'

/** A promise the test settles by hand: the effect is "in flight" until then. */
function gate<T> (): { promise: Promise<T>, open: (value: T) => void, fail: (err: Error) => void } {
  let open!: (value: T) => void
  let fail!: (err: Error) => void
  const promise = new Promise<T>((resolve, reject) => { open = resolve; fail = reject })
  return { promise, open, fail }
}

/** The owner machine with recording effects; `hold` keeps the next answer in flight so work queues behind it. */
function harness (options: { failRotation?: string } = {}) {
  const calls: string[] = []
  const done: SwarmOwnerEmitted[] = []
  let held: ReturnType<typeof gate<{ granted: boolean }>> | undefined
  const logic = swarmOwnerMachine.provide({
    actors: {
      createNetwork: fromPromise<NetworkCreated, { authorised: string[] }>(async ({ input }) => { calls.push(`create ${input.authorised.join(',')}`); return { epoch: 1, fingerprint: 'f1', bootstrap: ['/b'] } }),
      answerKeyRequest: fromPromise<{ granted: boolean }, AnswerRequestInput>(async ({ input }) => {
        calls.push(`answer ${input.peer} ${input.authorised ? 'grant' : 'deny'} e${input.epoch}`)
        if (held != null) { const waiting = held; held = undefined; return await waiting.promise }
        return { granted: input.authorised }
      }),
      saveOwnerState: fromPromise<void, SaveOwnerInput>(async ({ input }) => { calls.push(`save ${input.authorised.join(',')}${input.rotationDue ? ' rotationDue' : ''}`) }),
      evictMember: fromPromise<void, EvictMemberInput>(async ({ input }) => { calls.push(`evict ${input.peer}`) }),
      distributeKey: fromPromise<KeyDistributed, DistributeKeyInput>(async ({ input }) => {
        calls.push(`rotate e${input.epoch} to ${input.authorised.join(',')}`)
        if (options.failRotation != null) throw new Error(options.failRotation)
        return { epoch: input.epoch, fingerprint: `f${input.epoch}`, bootstrap: input.bootstrap, notified: input.authorised }
      }),
      dissolveNetwork: fromPromise<void, void>(async () => { calls.push('dissolve') })
    }
  })
  const actor = createActor(logic, { input: {} }).start()
  actor.on('swarm.command.done', (event) => { done.push(event) })
  const hold = (): ReturnType<typeof gate<{ granted: boolean }>> => { held = gate(); return held }
  const idle = async (): Promise<void> => { await waitFor(actor, (s) => s.matches({ running: 'active' }) && s.context.queue.length === 0, { timeout: 1000 }) }
  return { actor, calls, done, hold, idle }
}

test('one queue: requests, authorisations and revocations run in arrival order, each with the state its turn sees', async () => {
  const { actor, calls, done, hold, idle } = harness()
  actor.send({ type: 'swarm.create', id: 'c', authorised: ['A', 'B'] })
  await waitFor(actor, (s) => s.matches('running'))
  const first = hold()
  actor.send({ type: 'swarm.key.requested', id: 'r1', peer: 'A' })
  // while A's answer is in flight: B asks, B is revoked, C is authorised and asks
  actor.send({ type: 'swarm.key.requested', id: 'r2', peer: 'B' })
  actor.send({ type: 'swarm.revoke', id: 'v', peer: 'B' })
  actor.send({ type: 'swarm.authorise', id: 'a', peer: 'C' })
  actor.send({ type: 'swarm.key.requested', id: 'r3', peer: 'C' })
  actor.send({ type: 'swarm.key.requested', id: 'r4', peer: 'B' })
  first.open({ granted: true })
  await idle()
  assert.equal(calls, [
    'create A,B',
    'answer A grant e1',
    'answer B grant e1', // asked before the revocation: its turn came first
    'save A rotationDue', // the smaller list is on disk before anything else
    'evict B',
    'rotate e2 to A',
    'save A,C',
    'answer C grant e2',
    'answer B deny e2' // asked after: never sealed a key issued after its revocation
  ])
  assert.equal(done.map((d) => `${d.id}:${String(d.ok)}`), ['c:true', 'r1:true', 'r2:true', 'v:true', 'a:true', 'r3:true', 'r4:true'])
  assert.equal(actor.getSnapshot().context.members.sort(), ['A', 'C'])
  assert.is(actor.getSnapshot().context.epoch, 2)
})

test('key requests past the queue bound are refused at once as SWARM_BUSY; the queued ones still run', async () => {
  const { actor, done, hold, idle } = harness()
  actor.send({ type: 'swarm.create', id: 'c', authorised: ['A'] })
  await waitFor(actor, (s) => s.matches('running'))
  const first = hold()
  // the one in flight counts: MAX_QUEUED_GRANTS fit, the 6 after them do not
  for (let i = 0; i < MAX_QUEUED_GRANTS + 6; i++) actor.send({ type: 'swarm.key.requested', id: `r${i}`, peer: 'A' })
  const busy = done.filter((d) => d.code === 'SWARM_BUSY')
  assert.equal(busy.map((d) => d.id), [0, 1, 2, 3, 4, 5].map((n) => `r${MAX_QUEUED_GRANTS + n}`), 'the ones past the bound')
  first.open({ granted: true })
  await idle()
  assert.is(done.filter((d) => d.ok).length, 1 + MAX_QUEUED_GRANTS, 'create, and every queued request')
})

test('a failed rotation after a revocation says the peer is out but the key must rotate again; the queue goes on', async () => {
  const { actor, done, idle } = harness({ failRotation: 'member unreachable' })
  actor.send({ type: 'swarm.create', id: 'c', authorised: ['A', 'B'] })
  await waitFor(actor, (s) => s.matches('running'))
  actor.send({ type: 'swarm.revoke', id: 'v', peer: 'B' })
  actor.send({ type: 'swarm.authorise', id: 'a', peer: 'C' })
  await idle()
  const revoke = done.find((d) => d.id === 'v')!
  assert.is(revoke.ok, false)
  assert.match(revoke.error ?? '', /B is revoked, but the rotation failed \(member unreachable\); rotate again/)
  assert.equal(actor.getSnapshot().context.authorised, ['A', 'C'], 'the revocation stands; the next command ran')
  assert.is(actor.getSnapshot().context.lastError, 'member unreachable')
})

test('dissolving fails the work still queued behind it', async () => {
  const { actor, done, hold } = harness()
  actor.send({ type: 'swarm.create', id: 'c', authorised: ['A'] })
  await waitFor(actor, (s) => s.matches('running'))
  const first = hold()
  actor.send({ type: 'swarm.key.requested', id: 'r1', peer: 'A' })
  actor.send({ type: 'swarm.dissolve', id: 'd' })
  actor.send({ type: 'swarm.rotate', id: 'late' })
  first.open({ granted: true })
  await waitFor(actor, (s) => s.matches('idle'), { timeout: 1000 })
  assert.equal(done.map((d) => `${d.id}:${String(d.ok)}${d.error != null ? `:${d.error}` : ''}`), ['c:true', 'r1:true', 'd:true', 'late:false:the swarm was dissolved'])
})

test('members: a leave uncounts (still authorised); an authorised peer seen on the private host counts, a stranger does not', async () => {
  const { actor, idle } = harness()
  actor.send({ type: 'swarm.create', id: 'c', authorised: ['A', 'B'] })
  await idle()
  actor.send({ type: 'swarm.key.requested', id: 'r', peer: 'A' })
  await idle()
  assert.equal(actor.getSnapshot().context.members, ['A'])
  actor.send({ type: 'swarm.member.left', peer: 'A' })
  assert.equal(actor.getSnapshot().context.members, [])
  assert.equal(actor.getSnapshot().context.authorised, ['A', 'B'], 'leaving is not being revoked')
  // after a restart members come back on the saved key, with no grant
  for (const peer of ['B', 'X', 'B']) actor.send({ type: 'swarm.member.seen', peer })
  assert.equal(actor.getSnapshot().context.members, ['B'], 'B once; X is not authorised')
  actor.send({ type: 'swarm.revoke', id: 'v', peer: 'B' })
  await idle()
  actor.send({ type: 'swarm.member.seen', peer: 'B' })
  // the rotation that cut B off handed A the new key: A holds it again, B never
  assert.equal(actor.getSnapshot().context.members, ['A'], 'a revoked peer is not counted again')
})

test.run()
