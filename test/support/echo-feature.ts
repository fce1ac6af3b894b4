// A feature written the way the swarm and the VPN are (docs/architecture.md, "Writing a feature"):
// it takes the node's components, adds what it serves before the node starts, and keeps
// nothing of one run of the node in the next: its actor runs per run (start hook), its
// timer is cleared in the stop hook.
import { assign, setup } from 'xstate'
import type { ActorRefFrom } from 'xstate'
import { componentsOf } from '../../runtime/node-components.js'
import type { NodeComponents } from '../../runtime/node-components.js'
import type { FeatureFactory } from '../../runtime/node-init.js'
import type { DmsNode } from '../../runtime/node.js'

/** Counts the pokes remote peers send it (the event type it accepts from them). */
export const echoMachine = setup({
  types: { context: {} as { pokes: number, last?: string }, events: {} as { type: 'echo.poke', from: string } }
}).createMachine({
  id: 'echo',
  context: { pokes: 0 },
  on: { 'echo.poke': { actions: assign({ pokes: ({ context }) => context.pokes + 1, last: ({ event }) => event.from }) } }
})

export interface Echo {
  /** This run's actor (undefined while the node is stopped). */
  readonly actor: ActorRefFrom<typeof echoMachine> | undefined
  /** Heartbeats of this run: the timer the stop hook clears. */
  readonly beats: number
  /** Requests answered, over every run. */
  readonly answered: number
}

/** The feature as a factory, created with the node: `createNode({ features: { echo: echo() } })`. */
export const echo = (init: { beatMs?: number } = {}): FeatureFactory<Echo> => (components) => createEchoOn(components, init)

/** The same for a node created without it. */
export const createEcho = (node: DmsNode, init: { beatMs?: number } = {}): Echo => createEchoOn(componentsOf(node), init)

function createEchoOn (components: NodeComponents, init: { beatMs?: number }): Echo {
  const { messages, actors, lifecycle, logger } = components
  const log = logger.forComponent('dms:echo')
  let actor: ActorRefFrom<typeof echoMachine> | undefined
  let timer: NodeJS.Timeout | undefined
  let beats = 0
  let answered = 0
  // a message type is served by whichever host the peer is on; registered once, it survives restarts
  messages.handle('echo', (body) => { answered++; return body })
  lifecycle.add({
    name: 'echo',
    start: () => {
      actor = actors.run('echo', echoMachine, { acceptsRemote: ['echo.poke'] })
      beats = 0
      timer = setInterval(() => { beats++; log.trace('beat %d', beats) }, init.beatMs ?? 50)
    },
    stop: () => {
      clearInterval(timer)
      timer = undefined
      actor = undefined // stopped with the node's root
    }
  })
  return { get actor () { return actor }, get beats () { return beats }, get answered () { return answered } }
}
