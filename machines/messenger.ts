import { setup, assign, fromCallback } from 'xstate'
import type { EventObject } from 'xstate'
import type { NetworkKind } from './contracts.js'

/** The messenger's counters (`MessengerStats`), as its actor shows them (sampled, not per message). */
export interface MessengerCounters {
  framesIn: number
  framesOut: number
  bytesIn: number
  bytesOut: number
  openChannels: number
  pendingRequests: number
  errors: Record<string, number>
}

export type MessengerActorEvent = { type: 'messenger.sampled', counters: MessengerCounters }

export interface MessengerActorContext {
  network: NetworkKind
  counters: MessengerCounters
}

const noCounters = (): MessengerCounters => ({ framesIn: 0, framesOut: 0, bytesIn: 0, bytesOut: 0, openChannels: 0, pendingRequests: 0, errors: {} })

/**
 * The messenger of one running host, as an actor of the node: idle (no peer
 * channel open) or active, with the channels, the requests waiting for an
 * answer and the counters in context. The messages themselves do not pass
 * through this machine: a message is a few microseconds of work and an actor
 * event costs more than that (docs/architecture.md), so the `sample` actor the
 * runtime provides reads the messenger's counters and reports them when they change.
 */
export const messengerMachine = setup({
  types: { context: {} as MessengerActorContext, events: {} as MessengerActorEvent, input: {} as { network: NetworkKind } },
  actors: {
    sample: fromCallback<EventObject, { network: NetworkKind }>(() => { throw new Error('sample is provided by the runtime') })
  },
  guards: {
    hasChannels: ({ event }) => event.counters.openChannels > 0
  },
  actions: {
    record: assign({ counters: ({ event }) => event.counters })
  }
}).createMachine({
  id: 'messenger',
  context: ({ input }) => ({ network: input.network, counters: noCounters() }),
  invoke: { id: 'sample', src: 'sample', input: ({ context }) => ({ network: context.network }) },
  initial: 'idle',
  states: {
    idle: {
      on: {
        'messenger.sampled': [
          { guard: 'hasChannels', target: 'active', actions: 'record' },
          { actions: 'record' }
        ]
      }
    },
    active: {
      on: {
        'messenger.sampled': [
          { guard: 'hasChannels', actions: 'record' },
          { target: 'idle', actions: 'record' }
        ]
      }
    }
  }
})
