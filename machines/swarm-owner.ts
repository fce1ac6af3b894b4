import { setup, assign, emit, enqueueActions, fromPromise } from 'xstate'
import type { SwarmCommandCode } from './swarm-member.js'
import { errorOf } from './event-narrowing.js'

/**
 * One piece of owner work. They run strictly one at a time, in arrival order,
 * from `context.queue`: a key grant can never interleave with a rotation or a
 * revocation, so a grant seals exactly the epoch the machine holds when it runs.
 */
export type OwnerCommand =
  | { kind: 'grant', id: string, peer: string }
  | { kind: 'authorise', id: string, peer: string }
  | { kind: 'revoke', id: string, peer: string }
  | { kind: 'rotate', id: string }
  | { kind: 'dissolve', id: string }

export type SwarmOwnerEvent =
  | { type: 'swarm.create', id: string, authorised: string[] }
  /** An authenticated, authorised-looking key request; the machine decides when it runs and whether it is granted. */
  | { type: 'swarm.key.requested', id: string, peer: string }
  | { type: 'swarm.authorise', id: string, peer: string }
  | { type: 'swarm.revoke', id: string, peer: string }
  | { type: 'swarm.rotate', id: string }
  | { type: 'swarm.dissolve', id: string }
  /** Checked by the runtime: a member's signed word that it left (it stays authorised), or an authorised peer on the private host (it holds the key). */
  | { type: 'swarm.member.left' | 'swarm.member.seen', peer: string }

/** Emitted once for every command and create: its outcome. */
export type SwarmOwnerEmitted = { type: 'swarm.command.done', id: string, ok: boolean, error?: string, code?: SwarmCommandCode }

export interface SwarmOwnerContext {
  authorised: string[]
  /** Peers that hold the current key (granted or notified since the last rotation). */
  members: string[]
  epoch: number
  /** Names the current key; the key itself never enters a machine. */
  fingerprint?: string
  bootstrap: string[]
  /** Work waiting its turn, oldest first. */
  queue: OwnerCommand[]
  createId?: string
  grants: number
  denials: number
  lastError?: string
}

/** What the provided effects are given and give back. Plain data: no key material. */
export interface CreateNetworkInput { authorised: string[] }
export interface NetworkCreated { epoch: number, fingerprint: string, bootstrap: string[] }
export interface AnswerRequestInput { id: string, peer: string, authorised: boolean, epoch: number, fingerprint: string, bootstrap: string[] }
export interface SaveOwnerInput { authorised: string[], epoch: number, bootstrap: string[], rotationDue: boolean, audit: { action: 'authorise' | 'revoke', peer: string } }
export interface EvictMemberInput { peer: string, epoch: number }
export interface DistributeKeyInput { epoch: number, authorised: string[], bootstrap: string[] }
export interface KeyDistributed { epoch: number, fingerprint: string, bootstrap: string[], notified: string[] }

/** Most key requests waiting at once; more are refused at the door (the endpoint answers busy). */
export const MAX_QUEUED_GRANTS = 64

const without = (list: string[], peer: string): string[] => list.filter((p) => p !== peer)
const withPeer = (list: string[], peer: string): string[] => list.includes(peer) ? list : [...list, peer]
const errorText = (error: unknown): string => error instanceof Error ? error.message : String(error)
type Head<K extends OwnerCommand['kind']> = Extract<OwnerCommand, { kind: K }>
const head = <K extends OwnerCommand['kind']>(context: SwarmOwnerContext, kind: K): Head<K> => {
  const first = context.queue[0]
  if (first?.kind !== kind) throw new Error(`expected ${kind} at the head of the queue`)
  return first as Head<K>
}

/**
 * The owner of a private swarm: idle → creating → running (active, and one
 * state per kind of queued work) → dissolving → idle. Pure: the runtime
 * provides the effects (`createNetwork`, `answerKeyRequest`, `saveOwnerState`,
 * `evictMember`, `distributeKey`, `dissolveNetwork`) and holds the keys in their
 * closure. Revoking persists the smaller authorised list first, tells the peer it
 * is out, then rotates, so a crash between them never brings the revoked peer back.
 */
export const swarmOwnerMachine = setup({
  types: {
    context: {} as SwarmOwnerContext,
    events: {} as SwarmOwnerEvent,
    emitted: {} as SwarmOwnerEmitted,
    input: {} as Partial<SwarmOwnerContext> | undefined
  },
  actors: {
    createNetwork: fromPromise<NetworkCreated, CreateNetworkInput>(async () => { throw new Error('createNetwork is provided by the runtime') }),
    answerKeyRequest: fromPromise<{ granted: boolean }, AnswerRequestInput>(async () => { throw new Error('answerKeyRequest is provided by the runtime') }),
    saveOwnerState: fromPromise<void, SaveOwnerInput>(async () => { throw new Error('saveOwnerState is provided by the runtime') }),
    /** Tells a revoked member it is out (best effort, quickly: the rotation that follows cuts it off anyway). */
    evictMember: fromPromise<void, EvictMemberInput>(async () => { throw new Error('evictMember is provided by the runtime') }),
    distributeKey: fromPromise<KeyDistributed, DistributeKeyInput>(async () => { throw new Error('distributeKey is provided by the runtime') }),
    dissolveNetwork: fromPromise<void, void>(async () => { throw new Error('dissolveNetwork is provided by the runtime') })
  },
  guards: {
    next: ({ context }, kind: OwnerCommand['kind']) => context.queue[0]?.kind === kind
  },
  actions: {
    enqueue: assign({
      queue: ({ context, event }) => {
        if (event.type === 'swarm.key.requested') {
          if (context.queue.filter((c) => c.kind === 'grant').length >= MAX_QUEUED_GRANTS) return context.queue
          return [...context.queue, { kind: 'grant', id: event.id, peer: event.peer }]
        }
        if (event.type === 'swarm.authorise') return [...context.queue, { kind: 'authorise', id: event.id, peer: event.peer }]
        if (event.type === 'swarm.revoke') return [...context.queue, { kind: 'revoke', id: event.id, peer: event.peer }]
        if (event.type === 'swarm.rotate') return [...context.queue, { kind: 'rotate', id: event.id }]
        if (event.type === 'swarm.dissolve') return [...context.queue, { kind: 'dissolve', id: event.id }]
        return context.queue
      }
    }),
    /** A grant that did not fit the queue is answered at once; a queued one is answered when it has run. */
    refuseOverflow: enqueueActions(({ context, event, enqueue }) => {
      const id = 'id' in event ? event.id : ''
      if (!context.queue.some((c) => c.id === id)) enqueue.emit({ type: 'swarm.command.done', id, ok: false, error: 'busy', code: 'SWARM_BUSY' })
    }),
    dequeue: assign({ queue: ({ context }) => context.queue.slice(1) }),
    doneOk: emit(({ context }) => ({ type: 'swarm.command.done' as const, id: context.queue[0]?.id ?? '', ok: true })),
    doneFailed: emit(({ context, event }) => ({ type: 'swarm.command.done' as const, id: context.queue[0]?.id ?? '', ok: false, error: errorText(errorOf(event)) })),
    noteError: assign({ lastError: ({ event }) => errorText(errorOf(event)) }),
    /** A rotation ends the command that asked for it (a rotation owed to a crash was asked by no one). */
    finishRotation: enqueueActions(({ context, enqueue }) => {
      const first = context.queue[0]
      if (first?.kind !== 'rotate' && first?.kind !== 'revoke') return
      enqueue.emit({ type: 'swarm.command.done', id: first.id, ok: true })
      enqueue.assign({ queue: context.queue.slice(1) })
    }),
    /** A failed rotation is not retried in a loop: after a revocation the store still says it is due, so a restart rotates. */
    failRotation: enqueueActions(({ context, event, enqueue }) => {
      const first = context.queue[0]
      if (first?.kind !== 'rotate' && first?.kind !== 'revoke') return
      const error = first.kind === 'revoke'
        ? `${first.peer} is revoked, but the rotation failed (${errorText(errorOf(event))}); rotate again`
        : errorText(errorOf(event))
      enqueue.emit({ type: 'swarm.command.done', id: first.id, ok: false, error })
      enqueue.assign({ queue: context.queue.slice(1) })
    }),
    /** Work still queued when the swarm goes away fails with that reason. */
    abandonQueue: enqueueActions(({ context, enqueue }) => {
      for (const command of context.queue) enqueue.emit({ type: 'swarm.command.done', id: command.id, ok: false, error: 'the swarm was dissolved' })
      enqueue.assign({ queue: [] })
    })
  }
}).createMachine({
  id: 'swarmOwner',
  context: ({ input }) => ({ authorised: [], members: [], epoch: 0, bootstrap: [], queue: [], grants: 0, denials: 0, ...input }),
  initial: 'idle',
  states: {
    idle: {
      on: {
        'swarm.create': {
          target: 'creating',
          actions: assign({
            authorised: ({ event }) => [...new Set(event.authorised)],
            createId: ({ event }) => event.id,
            lastError: undefined
          })
        }
      }
    },
    creating: {
      invoke: {
        id: 'createNetwork',
        src: 'createNetwork',
        input: ({ context }) => ({ authorised: context.authorised }),
        onDone: {
          target: 'running',
          actions: [
            assign({ epoch: ({ event }) => event.output.epoch, fingerprint: ({ event }) => event.output.fingerprint, bootstrap: ({ event }) => event.output.bootstrap, members: [] }),
            emit(({ context }) => ({ type: 'swarm.command.done' as const, id: context.createId ?? '', ok: true }))
          ]
        },
        onError: {
          target: 'idle',
          actions: ['noteError', emit(({ context, event }) => ({ type: 'swarm.command.done' as const, id: context.createId ?? '', ok: false, error: errorText(event.error) }))]
        }
      }
    },
    running: {
      initial: 'active',
      on: {
        'swarm.key.requested': { actions: ['enqueue', 'refuseOverflow'] },
        'swarm.authorise': { actions: 'enqueue' },
        'swarm.revoke': { actions: 'enqueue' },
        'swarm.rotate': { actions: 'enqueue' },
        'swarm.dissolve': { actions: 'enqueue' },
        // bookkeeping only, so not queued: a grant that runs after it adds the peer back, as it should
        'swarm.member.left': { actions: assign({ members: ({ context, event }) => without(context.members, event.peer) }) },
        'swarm.member.seen': { guard: ({ context, event }) => context.authorised.includes(event.peer), actions: assign({ members: ({ context, event }) => withPeer(context.members, event.peer) }) }
      },
      states: {
        active: {
          always: [
            { guard: { type: 'next', params: 'grant' }, target: 'answering' },
            { guard: { type: 'next', params: 'authorise' }, target: 'authorising' },
            { guard: { type: 'next', params: 'revoke' }, target: 'revoking' },
            { guard: { type: 'next', params: 'rotate' }, target: 'rotating' },
            { guard: { type: 'next', params: 'dissolve' }, target: '#swarmOwner.dissolving' }
          ]
        },
        answering: {
          invoke: {
            id: 'answerKeyRequest',
            src: 'answerKeyRequest',
            input: ({ context }) => {
              const { id, peer } = head(context, 'grant')
              return { id, peer, authorised: context.authorised.includes(peer), epoch: context.epoch, fingerprint: context.fingerprint ?? '', bootstrap: context.bootstrap }
            },
            onDone: {
              target: 'active',
              actions: [
                assign(({ context, event }) => {
                  const { peer } = head(context, 'grant')
                  return event.output.granted
                    ? { members: withPeer(context.members, peer), grants: context.grants + 1 }
                    : { denials: context.denials + 1 }
                }),
                'doneOk', 'dequeue'
              ]
            },
            onError: { target: 'active', actions: ['doneFailed', 'dequeue'] }
          }
        },
        authorising: {
          invoke: {
            id: 'saveOwnerState',
            src: 'saveOwnerState',
            input: ({ context }) => {
              const { peer } = head(context, 'authorise')
              return { authorised: withPeer(context.authorised, peer), epoch: context.epoch, bootstrap: context.bootstrap, rotationDue: false, audit: { action: 'authorise' as const, peer } }
            },
            onDone: { target: 'active', actions: [assign({ authorised: ({ context }) => withPeer(context.authorised, head(context, 'authorise').peer) }), 'doneOk', 'dequeue'] },
            onError: { target: 'active', actions: ['noteError', 'doneFailed', 'dequeue'] }
          }
        },
        revoking: {
          invoke: {
            id: 'saveOwnerState',
            src: 'saveOwnerState',
            input: ({ context }) => {
              const { peer } = head(context, 'revoke')
              return { authorised: without(context.authorised, peer), epoch: context.epoch, bootstrap: context.bootstrap, rotationDue: true, audit: { action: 'revoke' as const, peer } }
            },
            onDone: {
              // persisted: from here on the peer is out, even across a crash; it is told, and the rotation cuts it off
              target: 'evicting',
              actions: assign(({ context }) => {
                const { peer } = head(context, 'revoke')
                return { authorised: without(context.authorised, peer), members: without(context.members, peer) }
              })
            },
            onError: { target: 'active', actions: ['noteError', 'doneFailed', 'dequeue'] }
          }
        },
        evicting: {
          invoke: {
            id: 'evictMember',
            src: 'evictMember',
            input: ({ context }) => ({ peer: head(context, 'revoke').peer, epoch: context.epoch }),
            onDone: 'rotating',
            onError: 'rotating'
          }
        },
        rotating: {
          invoke: {
            id: 'distributeKey',
            src: 'distributeKey',
            input: ({ context }) => ({ epoch: context.epoch + 1, authorised: context.authorised, bootstrap: context.bootstrap }),
            onDone: {
              target: 'active',
              actions: [
                assign({
                  epoch: ({ event }) => event.output.epoch,
                  fingerprint: ({ event }) => event.output.fingerprint,
                  bootstrap: ({ event }) => event.output.bootstrap,
                  members: ({ context, event }) => event.output.notified.filter((peer) => context.authorised.includes(peer)),
                  lastError: undefined
                }),
                'finishRotation'
              ]
            },
            onError: { target: 'active', actions: ['noteError', 'failRotation'] }
          }
        }
      }
    },
    dissolving: {
      invoke: {
        id: 'dissolveNetwork',
        src: 'dissolveNetwork',
        onDone: {
          target: 'idle',
          actions: ['doneOk', 'dequeue', 'abandonQueue', assign({ members: [], fingerprint: undefined, bootstrap: [], authorised: [] })]
        },
        onError: { target: 'idle', actions: ['noteError', 'doneFailed', 'dequeue', 'abandonQueue'] }
      }
    }
  }
})
