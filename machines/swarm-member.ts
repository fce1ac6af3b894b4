import { setup, assertEvent, assign, emit, enqueueActions, fromCallback, fromPromise } from 'xstate'
import { errorOf } from './event-narrowing.js'

export type SwarmMemberEvent =
  | { type: 'swarm.join', id: string, owner: string, ownerAddress: string }
  /** A rotation notice from the owner, opened and checked; its key waits in the runtime under `epoch`. */
  | { type: 'swarm.rotation', epoch: number, fingerprint: string, bootstrap: string[] }
  /** The private network no longer takes our key (a missed rotation): ask the owner again. */
  | { type: 'swarm.key.rejected' }
  | { type: 'swarm.leave', id: string }
  /** The owner's signed eviction notice, checked: this member was revoked. */
  | { type: 'swarm.evicted', epoch: number }

/** A command's outcome; a failure has `code` KEY_DENIED when the owner refused the key, SWARM_FAILED otherwise. */
export type SwarmMemberEmitted =
  | { type: 'swarm.command.done', id: string, ok: boolean, error?: string, code?: SwarmCommandCode }
  /** What the member's embedder hears: it is in (joined), on a new key (rotated), out by its own choice (left) or the owner's (evicted). */
  | { type: 'swarm.member.changed', change: 'joined' | 'rotated' | 'left' | 'evicted', owner: string, epoch: number }
export type SwarmCommandCode = 'KEY_DENIED' | 'SWARM_BUSY' | 'SWARM_FAILED'

export interface SwarmMemberContext {
  owner?: string
  ownerAddress?: string
  epoch: number
  fingerprint?: string
  bootstrap: string[]
  addresses: string[]
  /** The join or leave waiting for its outcome. */
  commandId?: string
  lastError?: string
  /** Why the last command failed, for the caller's error code. */
  lastErrorCode?: SwarmCommandCode
  /** In the swarm since the last join (a join after that is a rotation). */
  inSwarm: boolean
  /** The owner evicted this member: the leave under way is its doing. */
  evicted: boolean
  /** A newer rotation that came while a join was under way: taken as soon as that join ends. */
  nextRotation?: Rotation
}

/** A rotation the member took: the epoch, its key's fingerprint, where the owner listens. */
export interface Rotation { epoch: number, fingerprint: string, bootstrap: string[] }

export interface RequestKeyInput { owner: string, ownerAddress: string }
export type KeyAnswer = { granted: true, epoch: number, fingerprint: string, bootstrap: string[] } | { granted: false, reason: string }
export interface JoinNetworkInput { owner: string, ownerAddress: string, epoch: number, bootstrap: string[] }
export type JoinOutcome = { joined: true, addresses: string[] } | { joined: false }
export interface WatchOwnerInput { owner: string, bootstrap: string[] }
/** Who to tell that this member leaves by its own choice: its owner, unless the owner evicted it. */
export interface LeaveNetworkInput { owner?: string, epoch: number, tellOwner: boolean }

const errorText = (error: unknown): string => error instanceof Error ? error.message : String(error)

/**
 * A member of a private swarm: idle → requesting → joining → joined, rekeying
 * on a rotation notice, back to requesting when its key stops working, and
 * leaving → idle (back on the public network). A rejoin that no caller waits
 * for and that cannot reach the owner (restarting, say) waits in `rejoining`
 * and asks again every 2 s; only a denial ends it. Pure: the runtime provides
 * `requestKey`, `joinNetwork`, `watchOwner` and `leaveNetwork`, and keeps the
 * keys in their closure; context carries only fingerprints.
 */
export const swarmMemberMachine = setup({
  types: {
    context: {} as SwarmMemberContext,
    events: {} as SwarmMemberEvent,
    emitted: {} as SwarmMemberEmitted,
    input: {} as Partial<SwarmMemberContext> | undefined
  },
  actors: {
    requestKey: fromPromise<KeyAnswer, RequestKeyInput>(async () => { throw new Error('requestKey is provided by the runtime') }),
    joinNetwork: fromPromise<JoinOutcome, JoinNetworkInput>(async () => { throw new Error('joinNetwork is provided by the runtime') }),
    /** Sends `swarm.key.rejected` when the owner's private host stops taking our key. */
    watchOwner: fromCallback<SwarmMemberEvent, WatchOwnerInput>(() => () => {}),
    leaveNetwork: fromPromise<void, LeaveNetworkInput>(async () => { throw new Error('leaveNetwork is provided by the runtime') })
  },
  guards: {
    /** No caller waits: the member is finding its way back on its own (after a rotation or a lost owner). */
    rejoining: ({ context }) => context.commandId == null
  },
  delays: {
    /** Between attempts to get back to an owner that did not answer. */
    rejoinDelay: 2000
  },
  actions: {
    /** The waiting join or leave succeeded (a rejoin nobody waits for answers no one). */
    done: enqueueActions(({ context, enqueue }) => { if (context.commandId != null) enqueue.emit({ type: 'swarm.command.done', id: context.commandId, ok: true }) }),
    /** The waiting join or leave fails with `lastError` (set just before). */
    failed: emit(({ context }) => ({ type: 'swarm.command.done' as const, id: context.commandId ?? '', ok: false, error: context.lastError ?? 'failed', code: context.lastErrorCode ?? 'SWARM_FAILED' })),
    noteError: assign({ lastError: ({ event }) => errorText(errorOf(event)), lastErrorCode: 'SWARM_FAILED' as const }),
    announce: emit(({ context }, change: 'joined' | 'rotated' | 'left' | 'evicted') => ({ type: 'swarm.member.changed' as const, change, owner: context.owner ?? '', epoch: context.epoch })),
    /** Out at the owner's word: leave now, and say why in status. */
    takeEviction: assign({
      evicted: true,
      commandId: undefined,
      lastError: ({ event }) => {
        assertEvent(event, 'swarm.evicted')
        return `evicted by the owner at epoch ${event.epoch}: it revoked this node`
      }
    })
  }
}).createMachine({
  id: 'swarmMember',
  context: ({ input }) => ({ epoch: 0, bootstrap: [], addresses: [], inSwarm: false, evicted: false, ...input }),
  initial: 'idle',
  states: {
    idle: {
      on: {
        'swarm.join': {
          target: 'requesting',
          actions: assign({ owner: ({ event }) => event.owner, ownerAddress: ({ event }) => event.ownerAddress, commandId: ({ event }) => event.id, lastError: undefined, lastErrorCode: undefined, evicted: false })
        }
      }
    },
    requesting: {
      invoke: {
        id: 'requestKey',
        src: 'requestKey',
        input: ({ context }) => ({ owner: context.owner ?? '', ownerAddress: context.ownerAddress ?? '' }),
        onDone: [
          {
            guard: ({ event }) => event.output.granted,
            target: 'joining',
            actions: assign(({ event }) => {
              const answer = event.output
              return answer.granted ? { epoch: answer.epoch, fingerprint: answer.fingerprint, bootstrap: answer.bootstrap } : {}
            })
          },
          {
            target: 'idle',
            actions: [
              assign({ lastError: ({ event }) => `denied: ${event.output.granted ? 'unknown' : event.output.reason}`, lastErrorCode: 'KEY_DENIED' as const }),
              'failed',
              // a member refused as not authorised on its way back in was revoked, whether or not the eviction
              // notice reached it; refused for another reason (busy, a skewed clock), it is out, not evicted
              enqueueActions(({ context, event, enqueue }) => {
                if (!context.inSwarm) return
                const reason = event.output.granted ? undefined : event.output.reason
                enqueue({ type: 'announce', params: reason === 'not-authorised' ? 'evicted' : 'left' })
              }),
              assign({ inSwarm: false })
            ]
          }
        ],
        onError: [
          // a rejoin nobody waits for (the owner went away, e.g. restarting): ask again until it answers
          { guard: 'rejoining', target: 'rejoining', actions: 'noteError' },
          { target: 'idle', actions: ['noteError', 'failed'] }
        ]
      }
    },
    rejoining: {
      after: { rejoinDelay: 'requesting' },
      on: {
        'swarm.leave': { target: 'leaving', actions: assign({ commandId: ({ event }) => event.id }) },
        'swarm.evicted': { target: 'leaving', actions: 'takeEviction' }
      }
    },
    joining: {
      on: {
        // rotations back to back: the newest waits for this join, so keys are switched and saved in order
        'swarm.rotation': {
          guard: ({ context, event }) => event.epoch > Math.max(context.epoch, context.nextRotation?.epoch ?? 0),
          actions: assign({ nextRotation: ({ event }) => ({ epoch: event.epoch, fingerprint: event.fingerprint, bootstrap: event.bootstrap }) })
        }
      },
      invoke: {
        id: 'joinNetwork',
        src: 'joinNetwork',
        input: ({ context }) => ({ owner: context.owner ?? '', ownerAddress: context.ownerAddress ?? '', epoch: context.epoch, bootstrap: context.bootstrap }),
        onDone: [
          {
            guard: ({ context, event }) => event.output.joined && context.nextRotation != null,
            target: 'joining',
            reenter: true,
            actions: [
              assign({ addresses: ({ event }) => event.output.joined ? event.output.addresses : [], lastError: undefined }),
              'done',
              { type: 'announce', params: ({ context }) => context.inSwarm ? 'rotated' as const : 'joined' as const },
              assign(({ context }) => ({ inSwarm: true, commandId: undefined, ...context.nextRotation!, nextRotation: undefined }))
            ]
          },
          {
            guard: ({ event }) => event.output.joined,
            target: 'joined',
            actions: [
              assign({ addresses: ({ event }) => event.output.joined ? event.output.addresses : [], lastError: undefined }),
              'done',
              { type: 'announce', params: ({ context }) => context.inSwarm ? 'rotated' as const : 'joined' as const },
              assign({ inSwarm: true })
            ]
          },
          // the owner's private host did not take the key: it was rotated away meanwhile; a newer
          // notice that came in the meantime has the key it is on, else asking gets it
          {
            guard: ({ context }) => context.nextRotation != null,
            target: 'joining',
            reenter: true,
            actions: assign(({ context }) => ({ ...context.nextRotation!, nextRotation: undefined }))
          },
          { target: 'requesting', actions: assign({ nextRotation: undefined }) }
        ],
        onError: [
          { guard: 'rejoining', target: 'rejoining', actions: ['noteError', assign({ nextRotation: undefined })] },
          { target: 'idle', actions: ['noteError', 'failed', assign({ nextRotation: undefined })] }
        ]
      }
    },
    joined: {
      invoke: { id: 'watchOwner', src: 'watchOwner', input: ({ context }) => ({ owner: context.owner ?? '', bootstrap: context.bootstrap }) },
      on: {
        'swarm.rotation': {
          guard: ({ context, event }) => event.epoch > context.epoch,
          target: 'joining',
          actions: assign({ epoch: ({ event }) => event.epoch, fingerprint: ({ event }) => event.fingerprint, bootstrap: ({ event }) => event.bootstrap, commandId: undefined })
        },
        'swarm.key.rejected': { target: 'requesting', actions: assign({ commandId: undefined }) },
        'swarm.leave': { target: 'leaving', actions: assign({ commandId: ({ event }) => event.id }) },
        'swarm.evicted': { target: 'leaving', actions: 'takeEviction' }
      }
    },
    leaving: {
      invoke: {
        id: 'leaveNetwork',
        src: 'leaveNetwork',
        input: ({ context }) => ({ ...(context.owner != null ? { owner: context.owner } : {}), epoch: context.epoch, tellOwner: context.inSwarm && !context.evicted }),
        onDone: {
          target: 'idle',
          actions: [
            'done',
            { type: 'announce', params: ({ context }) => context.evicted ? 'evicted' as const : 'left' as const },
            assign({ fingerprint: undefined, bootstrap: [], addresses: [], epoch: 0, inSwarm: false })
          ]
        },
        onError: {
          target: 'idle',
          // the leave failed half-way, but this member is out of the swarm all the same
          actions: ['noteError', 'failed', { type: 'announce', params: ({ context }) => context.evicted ? 'evicted' as const : 'left' as const }, assign({ inSwarm: false })]
        }
      }
    }
  }
})
