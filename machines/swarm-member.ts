import { setup, assign } from 'xstate'

/** Commands to a member of a private swarm, and the outcomes its service reports. */
export type SwarmMemberEvent =
  | { type: 'swarm.join', owner: string, ownerAddress: string }
  | { type: 'swarm.key.granted', epoch: number, fingerprint: string, bootstrap: string[] }
  | { type: 'swarm.key.denied', reason: string }
  | { type: 'swarm.joined', addresses: string[] }
  | { type: 'swarm.rotation', epoch: number, fingerprint: string, bootstrap: string[] }
  /** The private network no longer takes our key (a missed rotation): ask the owner again. */
  | { type: 'swarm.key.rejected' }
  | { type: 'swarm.leave' }
  | { type: 'swarm.left' }
  | { type: 'swarm.failed', error: string }

export interface SwarmMemberContext {
  owner?: string
  ownerAddress?: string
  epoch: number
  fingerprint?: string
  bootstrap: string[]
  addresses: string[]
  lastError?: string
}

/**
 * A member of a private swarm: idle → requesting → joining → joined, rekeying
 * on a rotation notice, back to requesting when its key stops working, and
 * leaving → idle (back on the public network). Pure: its service does the I/O.
 */
export const swarmMemberMachine = setup({
  types: { context: {} as SwarmMemberContext, events: {} as SwarmMemberEvent, input: {} as Partial<SwarmMemberContext> | undefined }
}).createMachine({
  id: 'swarmMember',
  context: ({ input }) => ({ epoch: 0, bootstrap: [], addresses: [], ...input }),
  initial: 'idle',
  states: {
    idle: {
      on: {
        'swarm.join': { target: 'requesting', actions: assign({ owner: ({ event }) => event.owner, ownerAddress: ({ event }) => event.ownerAddress, lastError: undefined }) }
      }
    },
    requesting: {
      on: {
        'swarm.key.granted': {
          target: 'joining',
          actions: assign({ epoch: ({ event }) => event.epoch, fingerprint: ({ event }) => event.fingerprint, bootstrap: ({ event }) => event.bootstrap })
        },
        'swarm.key.denied': { target: 'idle', actions: assign({ lastError: ({ event }) => `denied: ${event.reason}` }) },
        'swarm.failed': { target: 'idle', actions: assign({ lastError: ({ event }) => event.error }) }
      }
    },
    joining: {
      on: {
        'swarm.joined': { target: 'joined', actions: assign({ addresses: ({ event }) => event.addresses, lastError: undefined }) },
        'swarm.key.rejected': 'requesting',
        'swarm.failed': { target: 'idle', actions: assign({ lastError: ({ event }) => event.error }) }
      }
    },
    joined: {
      on: {
        'swarm.rotation': {
          target: 'joining',
          actions: assign({ epoch: ({ event }) => event.epoch, fingerprint: ({ event }) => event.fingerprint, bootstrap: ({ event }) => event.bootstrap })
        },
        'swarm.key.rejected': 'requesting',
        'swarm.leave': 'leaving'
      }
    },
    leaving: {
      on: {
        'swarm.left': { target: 'idle', actions: assign({ fingerprint: undefined, bootstrap: [], addresses: [], epoch: 0 }) },
        'swarm.failed': { target: 'idle', actions: assign({ lastError: ({ event }) => event.error }) }
      }
    }
  }
})
