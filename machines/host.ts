import { setup, assign, emit, sendParent, fromPromise, fromCallback, enqueueActions } from 'xstate'
import type { EventObject } from 'xstate'
import type { BridgeEvent, HostOperation, HostOperationEvent, Libp2pHandle, NetworkKind } from './contracts.js'

const notProvided = (name: string): Error => new Error(`no ${name} actor was provided to the host machine`)

/** Commands a caller sends to a host actor. */
export type HostCommand =
  | { type: 'host.start' }
  | { type: 'host.stop' }
  /** Stop, build a new libp2p node (e.g. with a new network key) and start it. */
  | { type: 'host.restart' }
  /** `timeoutMs`: this dial's own deadline (the host's dial timeout applies too). */
  | { type: 'host.dial', reqId: string, target: string, timeoutMs?: number }
  | { type: 'host.listen', reqId: string, address: string }
  /** The caller gave up on an operation (its signal aborted, or it timed out): stop it, reply nothing. */
  | { type: 'host.operation.cancel', reqId: string }

/** What a host tells its parent (the node actor). Bridge events are forwarded with `network`. */
export type HostReport =
  | { type: 'host.started', network: NetworkKind, peerId: string, addresses: string[], libp2p: Libp2pHandle }
  /** The host is about to stop (or restart): its bridge is gone, so peer facts end here. */
  | { type: 'host.stopping', network: NetworkKind }
  | { type: 'host.stopped', network: NetworkKind }
  | { type: 'host.failed', network: NetworkKind, code: HostFailureCode, error: string }
  | { type: 'host.dial.failed', network: NetworkKind, target: string, error: string }
  | (BridgeEvent & { network: NetworkKind })

/** Emitted to whoever awaits an operation (`actor.on('host.reply', ...)`). */
export type HostReply =
  | { type: 'host.reply', reqId: string, ok: true, result: unknown }
  | { type: 'host.reply', reqId: string, ok: false, code: 'HOST_NOT_RUNNING' | 'DIAL_FAILED' | 'LISTEN_FAILED', error: string }

/** Why a host failed: its port was taken, or anything else. Read from the error's `code`, never its text. */
export type HostFailureCode = 'ADDRESS_IN_USE' | 'HOST_START_FAILED'

const failureCode = (error: unknown): HostFailureCode => (error as { code?: unknown } | undefined)?.code === 'ADDRESS_IN_USE' ? 'ADDRESS_IN_USE' : 'HOST_START_FAILED'

/** A private host's part in its swarm's relay: the owner serves its members, a member reserves a slot. */
export type SwarmRelayRole = 'serve' | 'reserve'

export interface HostInput {
  network: NetworkKind
  listen: string[]
  /** Private host: its part in the swarm's own relay; kept across restarts. */
  relay?: SwarmRelayRole
}

/** What the `createLibp2p` actor is given; the runtime supplies identity and network key itself. */
export interface CreateLibp2pInput {
  network: NetworkKind
  listen: string[]
  relay?: SwarmRelayRole
}

export interface HostContext {
  network: NetworkKind
  listen: string[]
  relay?: SwarmRelayRole
  /** The live libp2p node while one exists; sanitised away before inspection. */
  libp2p?: Libp2pHandle
  peerId?: string
  addresses: string[]
  error?: string
  errorCode?: HostFailureCode
  /** Set by host.restart: after stopping, build and start again. */
  restartRequested: boolean
  /** Set by host.stop while the node is still being created. */
  stopRequested: boolean
  /** Dials and listens in flight, by reqId. */
  pending: Record<string, HostOperation>
}

export type HostEvent = HostCommand | BridgeEvent | HostOperationEvent

/** The addresses the host listens on now, without /p2p, for a restart on the same ports. */
function boundAddresses (context: HostContext): string[] {
  const bound = context.addresses.map((address) => address.replace(/\/p2p\/[^/]+$/, ''))
  return bound.length > 0 ? [...new Set(bound)] : context.listen
}

const errorText = (error: unknown): string => error instanceof Error ? error.message : String(error)

// exported below as `hostMachine`, under its named type
const hostMachineLogic = setup({
  types: {
    context: {} as HostContext,
    events: {} as HostEvent,
    input: {} as HostInput,
    emitted: {} as HostReply
  },
  actors: {
    /** Provided by the runtime, which holds the identity and network keys. */
    createLibp2p: fromPromise<Libp2pHandle, CreateLibp2pInput>(async () => { throw notProvided('createLibp2p') }),
    /** The effects below are actors/libp2p-host.ts and actors/libp2p-bridge.ts, provided by the runtime (runtime/node-actors.ts). */
    startLibp2p: fromPromise<void, { libp2p: Libp2pHandle }>(async () => { throw notProvided('startLibp2p') }),
    stopLibp2p: fromPromise<void, { libp2p: Libp2pHandle | undefined }>(async () => { throw notProvided('stopLibp2p') }),
    libp2pBridge: fromCallback<BridgeEvent, { libp2p: Libp2pHandle }>(() => { throw notProvided('libp2pBridge') }),
    hostOperation: fromCallback<EventObject, { libp2p: Libp2pHandle, operation: HostOperation }>(() => { throw notProvided('hostOperation') })
  },
  actions: {
    refuseNotRunning: emit(({ event, self }) => {
      const reqId = 'reqId' in event ? event.reqId : ''
      const state = JSON.stringify(self.getSnapshot()?.value ?? 'unknown')
      return { type: 'host.reply' as const, reqId, ok: false as const, code: 'HOST_NOT_RUNNING' as const, error: `the host is not running (state ${state})` }
    }),
    reportDialRefused: sendParent(({ context, event }) => ({
      type: 'host.dial.failed', network: context.network, target: 'target' in event ? event.target : '', error: 'the host is not running'
    })),
    forwardToParent: sendParent(({ context, event }) => ({ ...event, network: context.network })),
    reportStarted: sendParent(({ context }) => ({
      type: 'host.started', network: context.network, peerId: context.peerId!, addresses: context.addresses, libp2p: context.libp2p!
    })),
    reportStopping: sendParent(({ context }) => ({ type: 'host.stopping', network: context.network })),
    reportStopped: sendParent(({ context }) => ({ type: 'host.stopped', network: context.network })),
    reportFailed: sendParent(({ context }) => ({ type: 'host.failed', network: context.network, code: context.errorCode ?? 'HOST_START_FAILED', error: context.error ?? 'unknown error' }))
  },
  guards: {
    stopRequested: ({ context }) => context.stopRequested,
    restartRequested: ({ context }) => context.restartRequested
  }
}).createMachine({
  id: 'host',
  context: ({ input }) => ({
    network: input.network,
    listen: input.listen,
    ...(input.relay != null ? { relay: input.relay } : {}),
    addresses: [],
    restartRequested: false,
    stopRequested: false,
    pending: {}
  }),
  initial: 'configured',
  on: {
    'host.dial': { actions: ['refuseNotRunning', 'reportDialRefused'] },
    'host.listen': { actions: 'refuseNotRunning' }
  },
  states: {
    configured: {
      on: { 'host.start': 'creating', 'host.stop': 'stopped' }
    },
    creating: {
      entry: assign({ error: undefined, errorCode: undefined, stopRequested: false }),
      invoke: {
        id: 'createLibp2p',
        src: 'createLibp2p',
        input: ({ context }) => ({ network: context.network, listen: context.listen, ...(context.relay != null ? { relay: context.relay } : {}) }),
        onDone: [
          { guard: 'stopRequested', target: 'stopping', actions: assign({ libp2p: ({ event }) => event.output }) },
          { target: 'live', actions: assign({ libp2p: ({ event }) => event.output, peerId: ({ event }) => event.output.peerId.toString() }) }
        ],
        onError: { target: 'failed', actions: assign({ error: ({ event }) => `could not create the host: ${errorText(event.error)}`, errorCode: ({ event }) => failureCode(event.error) }) }
      },
      on: { 'host.stop': { actions: assign({ stopRequested: true }) } }
    },
    live: {
      invoke: { id: 'bridge', src: 'libp2pBridge', input: ({ context }) => ({ libp2p: context.libp2p! }) },
      initial: 'starting',
      on: {
        'libp2p.*': { actions: 'forwardToParent' },
        'libp2p.transport.listening': {
          actions: [assign({ addresses: ({ context }) => context.libp2p!.getMultiaddrs().map(String) }), 'forwardToParent']
        },
        'libp2p.self.updated': {
          actions: [assign({ addresses: ({ context }) => context.libp2p!.getMultiaddrs().map(String) }), 'forwardToParent']
        },
        'host.stop': '#host.stopping'
      },
      states: {
        starting: {
          invoke: {
            id: 'startLibp2p',
            src: 'startLibp2p',
            input: ({ context }) => ({ libp2p: context.libp2p! }),
            onDone: 'running',
            onError: { target: '#host.failed', actions: assign({ error: ({ event }) => errorText(event.error), errorCode: ({ event }) => failureCode(event.error), libp2p: undefined }) }
          }
        },
        running: {
          entry: [assign({ addresses: ({ context }) => context.libp2p!.getMultiaddrs().map(String) }), 'reportStarted'],
          on: {
            'host.dial': {
              actions: enqueueActions(({ context, event, enqueue }) => {
                const operation: HostOperation = { kind: 'dial', reqId: event.reqId, target: event.target, ...(event.timeoutMs != null ? { timeoutMs: event.timeoutMs } : {}) }
                enqueue.assign({ pending: { ...context.pending, [event.reqId]: operation } })
                enqueue.spawnChild('hostOperation', { id: `op:${event.reqId}`, input: { libp2p: context.libp2p!, operation } })
              })
            },
            'host.listen': {
              actions: enqueueActions(({ context, event, enqueue }) => {
                const operation: HostOperation = { kind: 'listen', reqId: event.reqId, address: event.address }
                enqueue.assign({ pending: { ...context.pending, [event.reqId]: operation } })
                enqueue.spawnChild('hostOperation', { id: `op:${event.reqId}`, input: { libp2p: context.libp2p!, operation } })
              })
            },
            'host.operation.done': {
              actions: enqueueActions(({ context, event, enqueue }) => {
                const { [event.reqId]: operation, ...rest } = context.pending
                enqueue.stopChild(`op:${event.reqId}`)
                enqueue.assign({ pending: rest, addresses: context.libp2p!.getMultiaddrs().map(String) })
                enqueue.emit({ type: 'host.reply', reqId: event.reqId, ok: true, result: event.result })
                void operation
              })
            },
            'host.operation.cancel': {
              actions: enqueueActions(({ context, event, enqueue }) => {
                if (context.pending[event.reqId] == null) return
                const { [event.reqId]: _cancelled, ...rest } = context.pending
                enqueue.stopChild(`op:${event.reqId}`)
                enqueue.assign({ pending: rest })
              })
            },
            'host.operation.failed': {
              actions: enqueueActions(({ context, event, enqueue }) => {
                const { [event.reqId]: operation, ...rest } = context.pending
                enqueue.stopChild(`op:${event.reqId}`)
                enqueue.assign({ pending: rest })
                const code = operation?.kind === 'listen' ? 'LISTEN_FAILED' : 'DIAL_FAILED'
                enqueue.emit({ type: 'host.reply', reqId: event.reqId, ok: false, code, error: event.error })
                if (operation?.kind === 'dial') {
                  enqueue.sendParent({ type: 'host.dial.failed', network: context.network, target: operation.target, error: event.error })
                }
              })
            },
            'host.restart': {
              target: '#host.stopping',
              // come back on the same ports, so peers that know this host can redial it
              actions: assign({ restartRequested: true, listen: ({ context }) => boundAddresses(context) })
            }
          }
        }
      }
    },
    stopping: {
      entry: 'reportStopping',
      // a stop during a restart's stopping phase cancels the restart
      on: { 'host.stop': { actions: assign({ restartRequested: false }) } },
      invoke: {
        id: 'stopLibp2p',
        src: 'stopLibp2p',
        input: ({ context }) => ({ libp2p: context.libp2p }),
        onDone: [
          { guard: 'restartRequested', target: 'creating', actions: assign({ libp2p: undefined, addresses: [], restartRequested: false, pending: {} }) },
          { target: 'stopped', actions: assign({ libp2p: undefined, addresses: [], pending: {} }) }
        ],
        onError: [
          { guard: 'restartRequested', target: 'creating', actions: assign({ libp2p: undefined, addresses: [], restartRequested: false, pending: {} }) },
          { target: 'stopped', actions: assign({ libp2p: undefined, addresses: [], pending: {} }) }
        ]
      }
    },
    stopped: {
      entry: 'reportStopped',
      on: { 'host.start': 'creating' }
    },
    failed: {
      entry: 'reportFailed',
      on: { 'host.start': 'creating', 'host.stop': 'stopped' }
    }
  }
})

type HostMachineLogic = typeof hostMachineLogic
/** The machine's type by name: the node, which runs it as a child, names it in its declarations instead of spelling it out. */
export interface HostMachine extends HostMachineLogic {}

/**
 * The host lifecycle: configured → creating → live (starting → running) → stopping
 * → stopped, with `failed` reachable from every state that does I/O and a
 * restart path used when a node joins, leaves or rekeys a private network.
 */
export const hostMachine: HostMachine = hostMachineLogic
