import { setup, assign } from 'xstate'
import type { SnapshotFrom } from 'xstate'
import { createTestModel } from 'xstate/graph'

/**
 * The private swarm as its users see it: an owner (a `dms-net node` process,
 * so it can be killed), three members (alice, bob, carol) and an outsider.
 * The state is alice's standing; bob's and carol's are in context. Pure, with
 * no invoke/after, so `createTestModel` walks it; each event is an action on
 * real nodes (swarm-world-runner.ts), each state a set of facts checked on them.
 *
 * Self-loops that change nothing the model tracks (the outsider asking, two
 * rotations, a crash in the middle of a rotation) add edges but no states, so
 * the shortest paths stay few while every transition can still be taken.
 */
export type WorldEvent =
  | { type: 'CREATE' } | { type: 'ALICE_JOINS' } | { type: 'ALICE_LEAVES' } | { type: 'OUTSIDER_ASKS' } | { type: 'ROTATE_TWICE' }
  | { type: 'BOB_OFFLINE' } | { type: 'BOB_BACK' } | { type: 'REVOKE_ALICE_WHILE_SHE_ASKS' }
  | { type: 'KILL_OWNER_MID_ROTATION' } | { type: 'KILL_OWNER_MID_REVOKE_OF_CAROL' }

export interface WorldContext {
  /** Bob's node is stopped (and misses whatever happens meanwhile). */
  bobOffline: boolean
  /** Carol was revoked (by a revoke the owner acknowledged on disk just before it was killed). */
  carolRevoked: boolean
}

const selfLoops = {
  OUTSIDER_ASKS: { actions: 'nothingTracked' },
  ROTATE_TWICE: { actions: 'nothingTracked' },
  KILL_OWNER_MID_ROTATION: { actions: 'nothingTracked' }
} as const

const runningEvents = {
  ...selfLoops,
  BOB_OFFLINE: { guard: 'bobOnline', actions: 'bobGoesOffline' },
  BOB_BACK: { guard: 'bobOffline', actions: 'bobComesBack' },
  KILL_OWNER_MID_REVOKE_OF_CAROL: { guard: 'carolIn', actions: 'carolIsRevoked' }
} as const

export const swarmWorld = setup({
  types: { context: {} as WorldContext, events: {} as WorldEvent },
  guards: {
    bobOnline: ({ context }) => !context.bobOffline,
    bobOffline: ({ context }) => context.bobOffline,
    carolIn: ({ context }) => !context.carolRevoked
  },
  actions: {
    /** A self-loop: the step happens on the real nodes, the model's state stays. */
    nothingTracked: () => {},
    bobGoesOffline: assign({ bobOffline: true }),
    bobComesBack: assign({ bobOffline: false }),
    carolIsRevoked: assign({ carolRevoked: true })
  }
}).createMachine({
  id: 'world',
  context: { bobOffline: false, carolRevoked: false },
  initial: 'noSwarm',
  states: {
    noSwarm: { on: { CREATE: 'aliceOut' } },
    aliceOut: {
      on: { ...runningEvents, ALICE_JOINS: 'aliceIn', REVOKE_ALICE_WHILE_SHE_ASKS: 'aliceRevoked' }
    },
    aliceIn: {
      on: { ...runningEvents, ALICE_LEAVES: 'aliceOut', REVOKE_ALICE_WHILE_SHE_ASKS: 'aliceRevoked' }
    },
    aliceRevoked: {
      on: { ...runningEvents }
    }
  }
})

/** A state is alice's standing and the context; how it was reached does not matter. */
export const worldModel = createTestModel(swarmWorld, {
  serializeState: (state) => JSON.stringify({ value: state.value, context: state.context })
})

export type WorldPath = ReturnType<typeof worldModel.getShortestPaths>[number]

/** A transition of the model's chart: the state it leaves (alice's standing) and the event. */
const transitionKey = (value: unknown, event: string): string => `${JSON.stringify(value)}|${event}`

type WorldSnapshot = SnapshotFrom<typeof swarmWorld>
/** The model's reachable states by serialised state, each with the state every event leads to. */
type Adjacency = Record<string, { state: WorldSnapshot, transitions: Record<string, { event: WorldEvent, state: WorldSnapshot }> }>
const adjacencyMap = (): Adjacency => worldModel.getAdjacencyMap() as unknown as Adjacency

/** Every transition of the chart that some reachable state enables. */
export function allTransitions (): Set<string> {
  const keys = new Set<string>()
  for (const { state, transitions } of Object.values(adjacencyMap())) {
    for (const { event } of Object.values(transitions)) if (state.can(event)) keys.add(transitionKey(state.value, event.type))
  }
  return keys
}

/** The chart transitions a path takes. */
export const transitionsOf = (path: WorldPath): string[] =>
  path.steps.filter((step) => !step.event.type.startsWith('xstate.')).map((step, i, steps) =>
    transitionKey(i === 0 ? 'noSwarm' : steps[i - 1]!.state.value, step.event.type))

/**
 * Few paths that together take every chart transition: each walks from the
 * start, taking an untaken transition where the current state has one and
 * otherwise the shortest way to a state that has, for at most `maxSteps` steps.
 * Every path starts on fresh nodes, so fewer, longer paths run faster.
 */
export function coveringTours (maxSteps = 14): WorldPath[] {
  const adjacency = adjacencyMap()
  const uncovered = allTransitions()
  const tours: WorldPath[] = []
  while (uncovered.size > 0) {
    let key = Object.keys(adjacency).find((k) => adjacency[k]!.state.value === 'noSwarm')!
    const events: WorldEvent[] = []
    while (events.length < maxSteps && uncovered.size > 0) {
      const route = routeToUntaken(adjacency, key, uncovered)
      if (route == null || events.length + route.length > maxSteps) break
      for (const step of route) {
        uncovered.delete(transitionKey(adjacency[key]!.state.value, step.event.type))
        events.push(step.event)
        key = step.to
      }
    }
    if (events.length === 0) break
    tours.push(worldModel.getPathsFromEvents(events, {})[0]!)
  }
  return tours
}

/** Breadth-first: the fewest steps from `from` that end by taking an untaken transition. */
function routeToUntaken (adjacency: Adjacency, from: string, uncovered: Set<string>): Array<{ event: WorldEvent, to: string }> | undefined {
  const queue: Array<{ key: string, route: Array<{ event: WorldEvent, to: string }> }> = [{ key: from, route: [] }]
  const seen = new Set([from])
  while (queue.length > 0) {
    const { key, route } = queue.shift()!
    for (const { event, state } of Object.values(adjacency[key]!.transitions)) {
      // the adjacency map also lists events whose guard fails (they lead back to the same state)
      if (!adjacency[key]!.state.can(event)) continue
      const to = serialise(state)
      const next = [...route, { event, to }]
      if (uncovered.has(transitionKey(adjacency[key]!.state.value, event.type))) return next
      if (!seen.has(to)) { seen.add(to); queue.push({ key: to, route: next }) }
    }
  }
  return undefined
}

const serialise = (state: { value: unknown, context: unknown }): string => JSON.stringify({ value: state.value, context: state.context })

export const pathName = (path: WorldPath): string =>
  path.steps.map((s) => s.event.type).filter((t) => !t.startsWith('xstate.')).join(' → ') || '(start)'
