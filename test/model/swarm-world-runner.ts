import * as assert from 'uvu/assert'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { TestNodes, eventually, passes } from '../support/nodes.js'
import { startDaemon } from '../support/cli.js'
import { floodKeyRequests } from '../support/key-requests.js'
import { createSwarm } from '../../runtime/swarm/swarm-service.js'
import type { Swarm, SwarmStatus } from '../../runtime/swarm/swarm-service.js'
import type { DmsNode } from '../../runtime/node.js'
import { ControlClient } from '../../runtime/control/client.js'
import type { SpawnedNode } from '../../runtime/cli/spawn-node.js'
import { errorCode } from '../../runtime/errors.js'
import type { WorldContext, WorldPath } from './swarm-world.js'

interface Member { node: DmsNode, swarm: Swarm }

/** How long a member redials the owner's private host before it asks for the key again: longer than an owner's restart. */
const REJOIN_WINDOW_MS = 5000
/** How long the facts of a state may take to hold on the real nodes (a killed owner restarts, members rejoin). */
const SETTLE_MS = 30_000

const freePort = async (): Promise<number> => await new Promise((resolve) => {
  const server = createServer().listen(0, '127.0.0.1', () => {
    const { port } = server.address() as { port: number }
    server.close(() => { resolve(port) })
  })
})

/**
 * Real nodes on 127.0.0.1 that a path drives: the owner is a `dms-net node`
 * process on a fixed port (so it can be SIGKILLed and restarted on the same
 * data dir and address), the members and the outsider are in-process nodes.
 */
class World {
  readonly nodes = new TestNodes()
  members!: Record<'alice' | 'bob' | 'carol', Member>
  outsider!: Member
  ownerDir = ''
  ownerPort = 0
  owner?: SpawnedNode
  control?: ControlClient

  async start (): Promise<void> {
    this.ownerDir = await mkdtemp(join(tmpdir(), 'dms-world-owner-'))
    this.ownerPort = await freePort()
    await this.startOwner()
    this.members = { alice: await this.member(), bob: await this.member(), carol: await this.member() }
    this.outsider = await this.member()
  }

  async member (dataDir?: string): Promise<Member> {
    const node = await this.nodes.create(dataDir != null ? { dataDir } : {})
    const swarm = createSwarm(node, { rejoinWindowMs: REJOIN_WINDOW_MS })
    await node.start()
    return { node, swarm }
  }

  async startOwner (): Promise<void> {
    this.owner = await startDaemon(['--data', this.ownerDir, '--listen', `/ip4/127.0.0.1/tcp/${this.ownerPort}`])
    this.control = await ControlClient.connect(this.ownerDir)
  }

  /** SIGKILL: no clean-up, no flush, no goodbye. Then the same command on the same data dir. */
  async killAndRestartOwner (): Promise<void> {
    this.control?.close()
    this.owner!.child.kill('SIGKILL')
    await this.owner!.stop()
    await this.startOwner()
  }

  async call<T = SwarmStatus> (method: string, params: Record<string, unknown> = {}): Promise<T> {
    return await this.control!.call<T>(method, params)
  }

  async ownerStatus (): Promise<SwarmStatus> {
    return await this.call('swarm.status')
  }

  get ownerAddress (): string { return `/ip4/127.0.0.1/tcp/${this.ownerPort}/p2p/${this.owner!.peerId}` }

  /** Wait until the owner's audit log on disk has a line matching `test`. */
  async auditShows (test: (record: { action: string, peer?: string, epoch?: number }) => boolean): Promise<void> {
    const path = join(this.ownerDir, 'swarm', 'audit.log')
    const deadline = Date.now() + 10_000
    for (;;) {
      const text = await readFile(path, 'utf8').catch(() => '')
      if (text.split('\n').filter(Boolean).some((line) => test(JSON.parse(line) as { action: string }))) return
      if (Date.now() > deadline) throw new Error('the owner never wrote the awaited audit line')
      await new Promise((resolve) => setTimeout(resolve, 2))
    }
  }

  async restartMember (name: 'bob'): Promise<void> {
    const old = this.members[name]
    await old.node.stop()
    this.members[name] = await this.member(old.node.config.dataDir)
    await this.members[name].swarm.restore()
  }

  async stop (): Promise<void> {
    this.control?.close()
    await this.owner?.stop()
    await this.nodes.cleanup()
    await rm(this.ownerDir, { recursive: true, force: true })
  }
}

/** Run one path against fresh real nodes; after every step check the facts of the state reached. */
export async function runPath (path: WorldPath): Promise<void> {
  const world = new World()
  await world.start()
  try {
    const { alice, bob, carol } = { alice: () => world.members.alice, bob: () => world.members.bob, carol: () => world.members.carol }
    await path.test({
      events: {
        CREATE: async () => {
          const created = await world.call('swarm.create', { authorised: [alice().node.peerId, bob().node.peerId, carol().node.peerId] })
          assert.is(created.state, 'active')
          for (const member of [bob(), carol()]) assert.is((await member.swarm.join(world.ownerAddress)).state, 'joined')
        },
        ALICE_JOINS: async () => { assert.is((await alice().swarm.join(world.ownerAddress)).state, 'joined') },
        ALICE_LEAVES: async () => { assert.is((await alice().swarm.leave()).state, 'idle') },
        OUTSIDER_ASKS: async () => {
          const refusal = await world.outsider.swarm.join(world.ownerAddress).then(() => undefined, (err: unknown) => err)
          assert.is(errorCode(refusal), 'KEY_DENIED', String(refusal))
        },
        ROTATE_TWICE: async () => {
          const before = (await world.ownerStatus()).epoch
          await world.call('swarm.rotate')
          assert.is((await world.call('swarm.rotate')).epoch, before + 2)
        },
        BOB_OFFLINE: async () => { await bob().node.stop() },
        BOB_BACK: async () => { await world.restartMember('bob') },
        REVOKE_ALICE_WHILE_SHE_ASKS: async () => {
          const before = (await world.ownerStatus()).epoch
          // alice asks for the key again and again, on her own, while the owner revokes her
          await alice().node.dial(world.ownerAddress).catch(() => {})
          const flood = floodKeyRequests(alice().node, world.owner!.peerId)
          await eventually('alice is asking', () => flood.answers.length > 0, 10_000)
          const revoked = await world.call('swarm.revoke', { peer: alice().node.peerId })
          await flood.stop()
          assert.ok(revoked.epoch > before)
          assert.ok(flood.answers.some((answer) => answer !== 'reset'), 'the owner answered some of her requests while it revoked her')
          const late = flood.answers.filter((answer) => typeof answer === 'number' && answer > before)
          assert.equal(late, [], 'alice was never sealed a key issued after her revocation')
        },
        KILL_OWNER_MID_ROTATION: async () => {
          const before = (await world.ownerStatus()).epoch
          const rotating = world.call('swarm.rotate').catch(() => undefined)
          // the new key is on disk (the audit line follows it): the rotation is under way
          await world.auditShows((r) => r.action === 'rotate' && r.epoch === before + 1)
          await world.killAndRestartOwner()
          await rotating
          const after = await world.ownerStatus()
          assert.is(after.state, 'active')
          assert.is(after.epoch, before + 1, 'the owner comes back on the key it was distributing')
        },
        KILL_OWNER_MID_REVOKE_OF_CAROL: async () => {
          const carolId = carol().node.peerId
          const revoking = world.call('swarm.revoke', { peer: carolId }).catch(() => undefined)
          // acknowledged: the smaller list is saved and audited; the rotation that cuts carol off is under way
          await world.auditShows((r) => r.action === 'revoke' && r.peer === carolId)
          await world.killAndRestartOwner()
          await revoking
          const after = await world.ownerStatus()
          assert.not.ok(after.authorised.includes(carolId), 'the acknowledged revoke survived the crash')
        }
      },
      states: {
        '*': async (snapshot) => { await checkFacts(world, String(snapshot.value), snapshot.context) }
      }
    })
  } finally {
    await world.stop()
  }
}

async function checkFacts (world: World, state: string, context: WorldContext): Promise<void> {
  const { alice, bob, carol } = world.members
  const outsider = world.outsider.node.peerId
  assert.is(world.outsider.node.status().privateHost?.state, undefined, 'the outsider never runs a private host')
  const owner = await world.ownerStatus()
  assert.not.ok(owner.privatePeers.includes(outsider), 'the outsider is never on the private network')
  if (state === 'noSwarm') {
    assert.is(owner.role, 'none')
    return
  }
  assert.is(owner.state, 'active')
  const inside = [...(state === 'aliceIn' ? [alice] : []), ...(context.bobOffline ? [] : [bob]), ...(context.carolRevoked ? [] : [carol])]
  const outside = [...(state === 'aliceIn' ? [] : [alice]), ...(context.carolRevoked ? [carol] : [])]
  // every member in the swarm ends up on the owner's current key, connected to it privately
  await passes(async () => {
    const now = await world.ownerStatus()
    for (const member of inside) {
      const status = member.swarm.status()
      assert.is(status.state, 'joined', `${member.node.peerId} is joined`)
      assert.is(status.fingerprint, now.fingerprint, 'on the owner\'s current key')
      assert.ok(now.privatePeers.includes(member.node.peerId), 'connected to the owner privately')
    }
    for (const member of outside) assert.not.ok(now.privatePeers.includes(member.node.peerId), 'not on the private network')
  }, SETTLE_MS)
  if (state === 'aliceRevoked') assert.not.ok(owner.authorised.includes(alice.node.peerId))
  if (context.carolRevoked) assert.not.ok(owner.authorised.includes(carol.node.peerId))
  for (const [revoked, member] of [[state === 'aliceRevoked', alice], [context.carolRevoked, carol]] as const) {
    if (revoked) await eventually('a revoked member ends outside, on the public network', () => member.swarm.status().state === 'idle', SETTLE_MS)
  }
}
