import { setup, assign, sendParent } from 'xstate'
import type { BridgeEvent, NetworkKind } from './contracts.js'
import { eventOf } from './event-narrowing.js'

type PeerFact = Extract<BridgeEvent, {
  type: 'libp2p.peer.connected' | 'libp2p.peer.disconnected' | 'libp2p.peer.identified' | 'libp2p.peer.updated'
  | 'libp2p.peer.discovered' | 'libp2p.peer.reconnect-failed' | 'libp2p.connection.opened' | 'libp2p.connection.closed'
}>

/** Events a peer actor takes: facts from the bridge, and the outcome of dials made on its behalf. */
export type PeerEvent =
  | PeerFact
  | { type: 'peer.dial-failed', error: string }
  /** Ask the actor to (re)dial now, e.g. after the host restarted. */
  | { type: 'peer.dial' }

/** What a peer actor asks of its parent. */
export type PeerRequest =
  | { type: 'peer.dial-requested', network: NetworkKind, peerId: string, addresses: string[], attempt: number }
  | { type: 'peer.forgotten', network: NetworkKind, peerId: string }

export interface PeerInput {
  peerId: string
  network: NetworkKind
  addresses?: string[]
  /** Bootstrap peers are redialled with backoff whenever they drop. */
  bootstrap?: boolean
  redialBaseMs: number
  redialMaxMs: number
  /** A non-bootstrap peer disconnected this long is forgotten (its actor stops). */
  forgetAfterMs: number
}

export interface PeerContext extends Required<Omit<PeerInput, 'addresses' | 'bootstrap'>> {
  addresses: string[]
  bootstrap: boolean
  connections: string[]
  protocols: string[]
  agentVersion?: string
  lastError?: string
  /** Failed dials since the last successful connection; drives the backoff. */
  attempt: number
}

/** Delay before the next redial: base × 2^attempt, capped. */
export const redialDelay = (context: Pick<PeerContext, 'redialBaseMs' | 'redialMaxMs' | 'attempt'>): number =>
  Math.min(context.redialMaxMs, context.redialBaseMs * 2 ** Math.min(context.attempt, 30))

// exported below as `peerMachine`, under its named type
const peerMachineLogic = setup({
  types: {
    context: {} as PeerContext,
    events: {} as PeerEvent,
    input: {} as PeerInput
  },
  delays: {
    redial: ({ context }) => redialDelay(context),
    forget: ({ context }) => context.forgetAfterMs
  },
  guards: {
    isBootstrap: ({ context }) => context.bootstrap,
    notBootstrap: ({ context }) => !context.bootstrap
  },
  actions: {
    countOpened: assign({
      connections: ({ context, event }) => {
        const { connectionId } = eventOf(event, 'libp2p.connection.opened')
        return context.connections.includes(connectionId) ? context.connections : [...context.connections, connectionId]
      }
    }),
    countClosed: assign({
      connections: ({ context, event }) => {
        const { connectionId } = eventOf(event, 'libp2p.connection.closed')
        return context.connections.filter((id) => id !== connectionId)
      }
    }),
    learnAddresses: assign({
      addresses: ({ context, event }) => {
        const addresses = 'addresses' in event ? event.addresses : undefined
        return addresses != null && addresses.length > 0 ? addresses : context.addresses
      }
    }),
    learnIdentity: assign(({ context, event }) => {
      const identified = eventOf(event, 'libp2p.peer.identified')
      return {
        protocols: identified.protocols,
        addresses: identified.addresses.length > 0 ? identified.addresses : context.addresses,
        ...(identified.agentVersion != null ? { agentVersion: identified.agentVersion } : {})
      }
    }),
    resetBackoff: assign({ attempt: 0, lastError: undefined }),
    requestDial: sendParent(({ context }) => ({
      type: 'peer.dial-requested', network: context.network, peerId: context.peerId, addresses: context.addresses, attempt: context.attempt
    }) satisfies PeerRequest),
    reportForgotten: sendParent(({ context }) => ({ type: 'peer.forgotten', network: context.network, peerId: context.peerId }) satisfies PeerRequest)
  }
}).createMachine({
  id: 'peer',
  context: ({ input }) => ({
    peerId: input.peerId,
    network: input.network,
    addresses: input.addresses ?? [],
    bootstrap: input.bootstrap ?? false,
    redialBaseMs: input.redialBaseMs,
    redialMaxMs: input.redialMaxMs,
    forgetAfterMs: input.forgetAfterMs,
    connections: [],
    protocols: [],
    attempt: 0
  }),
  initial: 'disconnected',
  on: {
    'libp2p.connection.opened': { actions: 'countOpened' },
    'libp2p.connection.closed': { actions: 'countClosed' },
    'libp2p.peer.updated': { actions: 'learnAddresses' },
    'libp2p.peer.discovered': { actions: 'learnAddresses' },
    'libp2p.peer.connected': { target: '.connected', actions: 'resetBackoff' },
    'libp2p.peer.disconnected': { target: '.disconnected', actions: assign({ connections: [] }) }
  },
  states: {
    disconnected: {
      // no connection, and none being dialled: the node may forget it to make room
      tags: ['departed'],
      after: {
        redial: { guard: 'isBootstrap', target: 'dialing' },
        forget: { guard: 'notBootstrap', target: 'forgotten' }
      },
      on: { 'peer.dial': 'dialing' }
    },
    dialing: {
      entry: 'requestDial',
      on: {
        'peer.dial-failed': {
          target: 'disconnected',
          actions: assign({ lastError: ({ event }) => event.error, attempt: ({ context }) => context.attempt + 1 })
        },
        'libp2p.peer.reconnect-failed': {
          target: 'disconnected',
          actions: assign({ lastError: 'reconnect failed', attempt: ({ context }) => context.attempt + 1 })
        }
      }
    },
    connected: {
      on: { 'libp2p.peer.identified': { target: 'identified', actions: 'learnIdentity' } }
    },
    identified: {
      on: { 'libp2p.peer.identified': { actions: 'learnIdentity' } }
    },
    forgotten: {
      type: 'final',
      entry: 'reportForgotten'
    }
  }
})

type PeerMachineLogic = typeof peerMachineLogic
/** The machine's type by name: the node, which runs it as a child, names it in its declarations instead of spelling it out. */
export interface PeerMachine extends PeerMachineLogic {}

/**
 * One actor per known peer: its connectedness (disconnected → dialing →
 * connected → identified, and back), open connections, protocols and last error.
 */
export const peerMachine: PeerMachine = peerMachineLogic
