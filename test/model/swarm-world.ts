import { setup, assign } from 'xstate'
import { createTestModel } from 'xstate/graph'
import * as assert from 'uvu/assert'
import { TestNodes, eventually } from '../support/nodes.js'
import { createSwarm } from '../../runtime/swarm/swarm-service.js'
import type { Swarm } from '../../runtime/swarm/swarm-service.js'
import type { DmsNode } from '../../runtime/node.js'
import { componentsOf } from '../../runtime/node-components.js'

/**
 * The private swarm as a user sees it: an owner, a member (alice) and an
 * outsider. Pure, with no invoke/after, so `createTestModel` walks it; each
 * event is an action on real nodes, each state a set of facts checked on them.
 */
export type WorldEvent =
  | { type: 'CREATE' } | { type: 'ALICE_JOINS' } | { type: 'OUTSIDER_ASKS' } | { type: 'ROTATE' }
  | { type: 'REVOKE_ALICE' } | { type: 'ALICE_LEAVES' } | { type: 'RESTART_OWNER' } | { type: 'RESTART_ALICE' }

interface WorldContext { rotated: boolean, ownerRestarted: boolean, aliceRestarted: boolean, outsiderAsked: boolean }

export const swarmWorld = setup({
  types: { context: {} as WorldContext, events: {} as WorldEvent },
  guards: {
    notRotated: ({ context }) => !context.rotated,
    ownerNotRestarted: ({ context }) => !context.ownerRestarted,
    aliceNotRestarted: ({ context }) => !context.aliceRestarted,
    outsiderNotAsked: ({ context }) => !context.outsiderAsked
  }
}).createMachine({
  id: 'world',
  context: { rotated: false, ownerRestarted: false, aliceRestarted: false, outsiderAsked: false },
  initial: 'noSwarm',
  states: {
    noSwarm: { on: { CREATE: 'aliceOut' } },
    aliceOut: {
      on: {
        ALICE_JOINS: 'aliceIn',
        REVOKE_ALICE: 'aliceRevoked',
        OUTSIDER_ASKS: { guard: 'outsiderNotAsked', target: 'aliceOut', actions: assign({ outsiderAsked: true }) },
        ROTATE: { guard: 'notRotated', target: 'aliceOut', actions: assign({ rotated: true }) },
        RESTART_OWNER: { guard: 'ownerNotRestarted', target: 'aliceOut', actions: assign({ ownerRestarted: true }) }
      }
    },
    aliceIn: {
      on: {
        ALICE_LEAVES: 'aliceOut',
        REVOKE_ALICE: 'aliceRevoked',
        OUTSIDER_ASKS: { guard: 'outsiderNotAsked', target: 'aliceIn', actions: assign({ outsiderAsked: true }) },
        ROTATE: { guard: 'notRotated', target: 'aliceIn', actions: assign({ rotated: true }) },
        RESTART_OWNER: { guard: 'ownerNotRestarted', target: 'aliceIn', actions: assign({ ownerRestarted: true }) },
        RESTART_ALICE: { guard: 'aliceNotRestarted', target: 'aliceIn', actions: assign({ aliceRestarted: true }) }
      }
    },
    aliceRevoked: {
      on: { OUTSIDER_ASKS: { guard: 'outsiderNotAsked', target: 'aliceRevoked', actions: assign({ outsiderAsked: true }) } }
    }
  }
})

export const worldModel = createTestModel(swarmWorld)

type WorldPath = ReturnType<typeof worldModel.getShortestPaths>[number]

/** The (state, event) transitions a path takes. */
const transitionsOf = (path: WorldPath): string[] =>
  path.steps.filter((step) => !step.event.type.startsWith('xstate.')).map((step, i, steps) =>
    `${JSON.stringify(i === 0 ? 'noSwarm' : steps[i - 1]!.state.value)}|${step.event.type}`)

/** Fewest shortest paths (greedy) that together take every transition of the model at least once. */
export function coveringPaths (paths: WorldPath[]): WorldPath[] {
  const uncovered = new Set(paths.flatMap(transitionsOf))
  const chosen: WorldPath[] = []
  while (uncovered.size > 0) {
    const best = paths.reduce((a, b) => transitionsOf(b).filter((t) => uncovered.has(t)).length > transitionsOf(a).filter((t) => uncovered.has(t)).length ? b : a)
    for (const t of transitionsOf(best)) uncovered.delete(t)
    chosen.push(best)
  }
  return chosen
}

export const pathName = (path: WorldPath): string =>
  path.steps.map((s) => s.event.type).filter((t) => !t.startsWith('xstate.')).join(' → ') || '(start)'

interface Peer { node: DmsNode, swarm: Swarm }

/** Real nodes on 127.0.0.1 that a path drives. */
class World {
  readonly nodes = new TestNodes()
  owner!: Peer
  alice!: Peer
  outsider!: Peer

  async start (): Promise<void> {
    this.owner = await this.peer()
    this.alice = await this.peer()
    this.outsider = await this.peer()
  }

  async peer (dataDir?: string): Promise<Peer> {
    const node = await this.nodes.create(dataDir != null ? { dataDir } : {})
    const swarm = createSwarm(node, { rejoinWindowMs: 1500 })
    await node.start()
    return { node, swarm }
  }

  async restart (which: 'owner' | 'alice'): Promise<void> {
    const old = this[which]
    await old.node.stop()
    this[which] = await this.peer(old.node.config.dataDir)
    await this[which].swarm.restore()
  }

  get ownerAddress (): string { return this.owner.node.status().host.addresses[0]! }
}

/** Run one path against fresh real nodes; after every step check the facts of the state reached. */
export async function runPath (path: ReturnType<typeof worldModel.getShortestPaths>[number]): Promise<void> {
  const world = new World()
  await world.start()
  try {
    await path.test({
      events: {
        CREATE: async () => { assert.is((await world.owner.swarm.create([world.alice.node.peerId])).state, 'active') },
        ALICE_JOINS: async () => { assert.is((await world.alice.swarm.join(world.ownerAddress)).state, 'joined') },
        OUTSIDER_ASKS: async () => {
          const refusal = await world.outsider.swarm.join(world.ownerAddress).then(() => 'joined', (err: Error) => err.message)
          assert.match(refusal, /denied: not-authorised/)
        },
        ROTATE: async () => { await world.owner.swarm.rotate() },
        REVOKE_ALICE: async () => { await world.owner.swarm.revoke(world.alice.node.peerId) },
        ALICE_LEAVES: async () => { assert.is((await world.alice.swarm.leave()).state, 'idle') },
        RESTART_OWNER: async () => { await world.restart('owner') },
        RESTART_ALICE: async () => { await world.restart('alice') }
      },
      states: {
        '*': async (snapshot) => { await checkFacts(world, String(snapshot.value), snapshot.context) }
      }
    })
  } finally {
    await world.nodes.cleanup()
  }
}

async function checkFacts (world: World, state: string, context: WorldContext): Promise<void> {
  const owner = world.owner.swarm.status()
  const ownerPeers = (): string[] => world.owner.swarm.status().privatePeers
  assert.not.ok(ownerPeers().includes(world.outsider.node.peerId), 'the outsider is never on the private network')
  assert.is(componentsOf(world.outsider.node).hosts.privateHostState(), undefined, 'the outsider never runs a private host')
  if (state === 'noSwarm') {
    assert.is(owner.role, 'none')
    return
  }
  assert.is(owner.state, 'active')
  if (state === 'aliceIn') {
    await eventually('alice on the owner\'s current key', () =>
      world.alice.swarm.status().state === 'joined' && world.alice.swarm.status().fingerprint === world.owner.swarm.status().fingerprint, 10_000)
    await eventually('owner and alice connected privately', () => ownerPeers().includes(world.alice.node.peerId), 10_000)
  } else {
    await eventually('alice not on the private network', () => !ownerPeers().includes(world.alice.node.peerId), 10_000)
    if (state === 'aliceRevoked') {
      assert.not.ok(owner.authorised.includes(world.alice.node.peerId))
      await eventually('revoked alice ends outside', () => world.alice.swarm.status().state === 'idle', 15_000)
    }
  }
  const audit = await world.owner.swarm.auditLog()
  // a stranger's denial is counted live and summarised in the audit log (at the latest when the owner stops)
  const summarised = audit.some((r) => r.action === 'deny-summary' && (r.counts?.['not-authorised'] ?? 0) > 0)
  if (context.outsiderAsked) assert.ok(summarised || (owner.keyExchange.denied['not-authorised'] ?? 0) > 0, 'the denial is counted')
  assert.ok(audit.some((r) => r.action === 'create'))
}
