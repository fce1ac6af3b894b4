import { setup, assign } from 'xstate'

/** Commands to the owner side of a private swarm, and the outcomes its service reports. */
export type SwarmOwnerEvent =
  | { type: 'swarm.create', authorised: string[] }
  | { type: 'swarm.created', epoch: number, fingerprint: string, bootstrap: string[] }
  | { type: 'swarm.authorise', peer: string }
  | { type: 'swarm.revoke', peer: string }
  | { type: 'swarm.rotate' }
  | { type: 'swarm.rotated', epoch: number, fingerprint: string, bootstrap: string[], notified: string[] }
  | { type: 'swarm.key.granted', peer: string }
  | { type: 'swarm.key.denied', peer: string, reason: string }
  | { type: 'swarm.failed', error: string }
  | { type: 'swarm.dissolve' }
  | { type: 'swarm.dissolved' }

export interface SwarmOwnerContext {
  authorised: string[]
  /** Peers that hold the current key (granted or notified since the last rotation). */
  members: string[]
  epoch: number
  /** Names the current key; the key itself never enters a machine. */
  fingerprint?: string
  bootstrap: string[]
  grants: number
  denials: number
  lastError?: string
}

const without = (list: string[], peer: string): string[] => list.filter((p) => p !== peer)
const withPeer = (list: string[], peer: string): string[] => list.includes(peer) ? list : [...list, peer]

/**
 * The owner of a private swarm: idle → creating → active ⇄ rotating, → dissolving.
 * Pure: its service does the I/O (keys, private host, notices) and reports back.
 * Authorising adds a peer without rotating; revoking removes it and rotates, so
 * the revoked peer's key stops working at once.
 */
export const swarmOwnerMachine = setup({
  types: { context: {} as SwarmOwnerContext, events: {} as SwarmOwnerEvent, input: {} as Partial<SwarmOwnerContext> | undefined },
  guards: {
    isAuthorised: ({ context, event }) => context.authorised.includes((event as { peer: string }).peer)
  }
}).createMachine({
  id: 'swarmOwner',
  context: ({ input }) => ({ authorised: [], members: [], epoch: 0, bootstrap: [], grants: 0, denials: 0, ...input }),
  initial: 'idle',
  states: {
    idle: {
      on: {
        'swarm.create': { target: 'creating', actions: assign({ authorised: ({ event }) => [...new Set(event.authorised)], lastError: undefined }) }
      }
    },
    creating: {
      on: {
        'swarm.created': { target: 'active', actions: assign({ epoch: ({ event }) => event.epoch, fingerprint: ({ event }) => event.fingerprint, bootstrap: ({ event }) => event.bootstrap, members: [] }) },
        'swarm.failed': { target: 'idle', actions: assign({ lastError: ({ event }) => event.error }) }
      }
    },
    active: {
      on: {
        'swarm.authorise': { actions: assign({ authorised: ({ context, event }) => withPeer(context.authorised, event.peer) }) },
        'swarm.revoke': {
          guard: 'isAuthorised',
          target: 'rotating',
          actions: assign({ authorised: ({ context, event }) => without(context.authorised, event.peer), members: ({ context, event }) => without(context.members, event.peer) })
        },
        'swarm.rotate': 'rotating',
        'swarm.key.granted': { actions: assign({ members: ({ context, event }) => withPeer(context.members, event.peer), grants: ({ context }) => context.grants + 1 }) },
        'swarm.key.denied': { actions: assign({ denials: ({ context }) => context.denials + 1 }) },
        'swarm.dissolve': 'dissolving'
      }
    },
    rotating: {
      on: {
        'swarm.rotated': {
          target: 'active',
          actions: assign({
            epoch: ({ event }) => event.epoch,
            fingerprint: ({ event }) => event.fingerprint,
            bootstrap: ({ event }) => event.bootstrap,
            members: ({ context, event }) => event.notified.filter((peer) => context.authorised.includes(peer)),
            lastError: undefined
          })
        },
        'swarm.failed': { target: 'active', actions: assign({ lastError: ({ event }) => event.error }) },
        'swarm.key.denied': { actions: assign({ denials: ({ context }) => context.denials + 1 }) }
      }
    },
    dissolving: {
      on: {
        'swarm.dissolved': { target: 'idle', actions: assign({ members: [], fingerprint: undefined, bootstrap: [], authorised: [] }) },
        'swarm.failed': { target: 'idle', actions: assign({ lastError: ({ event }) => event.error }) }
      }
    }
  }
})
