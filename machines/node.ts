import { setup, assign, emit, enqueueActions, fromCallback } from 'xstate'
import type { ActorRefFrom, EventObject } from 'xstate'
import { hostMachine } from './host.js'
import type { HostReport } from './host.js'
import { peerMachine } from './peer.js'
import type { PeerEvent, PeerRequest } from './peer.js'
import type { DmsLibp2p } from '../actors/libp2p-node.js'
import type { NetworkKind, NodeEvent } from '../runtime/events.js'

export type PeerRef = ActorRefFrom<typeof peerMachine>

export interface NodeInput {
  listen: string[]
  /** Bootstrap multiaddrs, each with /p2p/<peer id>. */
  bootstrap: string[]
  redialBaseMs: number
  redialMaxMs: number
  /** @default 300000 */
  forgetAfterMs?: number
}

export interface NodeContext {
  input: NodeInput
  /** Peer actors by `${network}:${peerId}`. */
  peers: Record<string, PeerRef>
  /** The running public libp2p node, for the services actor. */
  libp2p?: DmsLibp2p
  peerId?: string
  servicesError?: string
  dialCounter: number
}

/** Services attached to a running host (messenger, protocol handlers); provided by the runtime. */
export type ServicesEvent = { type: 'services.ready' } | { type: 'services.failed', error: string }

export type NodeMachineEvent = HostReport | PeerRequest | ServicesEvent

/** Emitted by the node actor: the public events, plus readiness. */
export type NodeEmitted = NodeEvent | { type: 'node.ready', peerId: string } | { type: 'node.services-failed', error: string }

export const peerKey = (network: NetworkKind, peerId: string): string => `${network}:${peerId}`
export const peerSystemId = (network: NetworkKind, peerId: string): string => `peer.${network}.${peerId}`

/** The peer id a dial target names: the last /p2p/ component of a multiaddr, or the target itself. */
export function peerIdOfTarget (target: string): string | undefined {
  if (!target.startsWith('/')) return target
  const parts = target.split('/')
  const at = parts.lastIndexOf('p2p')
  return at >= 0 ? parts[at + 1] : undefined
}

/** The best thing to dial for a peer actor's request. */
export function dialTargetFor (request: Extract<PeerRequest, { type: 'peer.dial-requested' }>): string {
  const full = request.addresses.find((address) => address.endsWith(`/p2p/${request.peerId}`))
  if (full != null) return full
  const first = request.addresses[0]
  return first != null ? `${first}/p2p/${request.peerId}` : request.peerId
}

/** Bridge facts → public event, for the events an embedder sees. */
function toPublicEvent (event: HostReport): NodeEvent | undefined {
  switch (event.type) {
    case 'host.started': return { type: 'host.started', network: event.network, peerId: event.peerId, addresses: event.addresses }
    case 'host.stopped': return { type: 'host.stopped', network: event.network }
    case 'host.failed': return { type: 'host.failed', network: event.network, error: event.error }
    case 'libp2p.transport.listening': return { type: 'host.listening', network: event.network, addresses: event.addresses }
    case 'libp2p.peer.discovered': return { type: 'peer.discovered', peerId: event.peerId }
    case 'libp2p.peer.connected': return { type: 'peer.connected', peerId: event.peerId }
    case 'libp2p.peer.disconnected': return { type: 'peer.disconnected', peerId: event.peerId }
    case 'libp2p.peer.reconnect-failed': return { type: 'peer.reconnect-failed', peerId: event.peerId }
    case 'libp2p.peer.identified': return {
      type: 'peer.identified', peerId: event.peerId, protocols: event.protocols, ...(event.agentVersion != null ? { agentVersion: event.agentVersion } : {})
    }
    case 'libp2p.self.updated': return { type: 'self.updated', addresses: event.addresses }
    case 'libp2p.connection.opened': return { type: 'connection.opened', peerId: event.peerId, remoteAddr: event.remoteAddr, direction: event.direction }
    case 'libp2p.connection.closed': return { type: 'connection.closed', peerId: event.peerId, remoteAddr: event.remoteAddr }
    default: return undefined
  }
}

const peerFactTypes = new Set<string>([
  'libp2p.peer.discovered', 'libp2p.peer.connected', 'libp2p.peer.disconnected', 'libp2p.peer.identified',
  'libp2p.peer.updated', 'libp2p.peer.reconnect-failed', 'libp2p.connection.opened', 'libp2p.connection.closed'
])

/**
 * The root actor: runs the public host, keeps one actor per known peer fed with
 * bridge facts, redials bootstrap peers, attaches services to the running host,
 * and emits the public events embedders subscribe to.
 */
export const nodeMachine = setup({
  types: {
    context: {} as NodeContext,
    events: {} as NodeMachineEvent,
    input: {} as NodeInput,
    emitted: {} as NodeEmitted
  },
  actors: {
    host: hostMachine,
    peer: peerMachine,
    /** Provided by the runtime: attaches the messenger and protocol handlers to a running libp2p node. */
    services: fromCallback<EventObject, { libp2p: DmsLibp2p }>(({ sendBack }) => {
      sendBack({ type: 'services.ready' })
    })
  },
  actions: {
    publish: enqueueActions(({ event, enqueue }) => {
      const published = toPublicEvent(event as HostReport)
      if (published != null) enqueue.emit(published)
    }),
    routeToPeer: enqueueActions(({ context, event, enqueue }) => {
      const fact = event as Extract<HostReport, { peerId: string }>
      if (fact.peerId === context.peerId) return
      const key = peerKey(fact.network, fact.peerId)
      if (context.peers[key] == null) {
        enqueue.assign({
          peers: ({ context, spawn }) => {
            const ref = spawn('peer', {
              id: key,
              systemId: peerSystemId(fact.network, fact.peerId),
              input: {
                peerId: fact.peerId,
                network: fact.network,
                redialBaseMs: context.input.redialBaseMs,
                redialMaxMs: context.input.redialMaxMs,
                forgetAfterMs: context.input.forgetAfterMs ?? 300_000
              }
            }) as PeerRef
            return { ...context.peers, [key]: ref }
          }
        })
      }
      enqueue.sendTo(({ context: latest }) => latest.peers[key]!, fact as unknown as PeerEvent)
    })
  }
}).createMachine({
  id: 'node',
  context: ({ input, spawn }) => {
    const peers: Record<string, PeerRef> = {}
    for (const address of input.bootstrap) {
      const peerId = peerIdOfTarget(address)
      if (peerId == null) continue
      const key = peerKey('public', peerId)
      peers[key] = spawn('peer', {
        id: key,
        systemId: peerSystemId('public', peerId),
        input: {
          peerId, network: 'public', addresses: [address], bootstrap: true,
          redialBaseMs: input.redialBaseMs, redialMaxMs: input.redialMaxMs, forgetAfterMs: input.forgetAfterMs ?? 300_000
        }
      }) as PeerRef
    }
    return { input, peers, dialCounter: 0 }
  },
  invoke: {
    id: 'host',
    systemId: 'host.public',
    src: 'host',
    input: ({ context }) => ({ network: 'public' as const, listen: context.input.listen })
  },
  initial: 'offline',
  on: {
    'libp2p.*': [
      { guard: ({ event }) => peerFactTypes.has(event.type), actions: ['routeToPeer', 'publish'] },
      { actions: 'publish' }
    ],
    'host.failed': { target: '.offline', actions: ['publish', assign({ libp2p: undefined })] },
    'host.stopped': { target: '.offline', actions: ['publish', assign({ libp2p: undefined })] },
    'peer.dial-requested': {
      actions: enqueueActions(({ context, event, enqueue }) => {
        enqueue.assign({ dialCounter: context.dialCounter + 1 })
        enqueue.sendTo('host', { type: 'host.dial', reqId: `redial:${context.dialCounter}`, target: dialTargetFor(event) })
        enqueue.emit({ type: 'peer.redialing', peerId: event.peerId, attempt: event.attempt, delayMs: 0 })
      })
    },
    'host.dial.failed': {
      actions: enqueueActions(({ context, event, enqueue }) => {
        const peerId = peerIdOfTarget(event.target)
        const ref = peerId == null ? undefined : context.peers[peerKey(event.network, peerId)]
        if (ref != null) enqueue.sendTo(ref, { type: 'peer.dial-failed', error: event.error })
      })
    },
    'peer.forgotten': {
      actions: enqueueActions(({ context, event, enqueue }) => {
        for (const [key, ref] of Object.entries(context.peers)) {
          if (ref.getSnapshot().context.peerId !== event.peerId || ref.getSnapshot().status !== 'done') continue
          const { [key]: _gone, ...rest } = context.peers
          enqueue.stopChild(ref)
          enqueue.assign({ peers: rest })
        }
      })
    }
  },
  states: {
    offline: {
      on: {
        'host.started': {
          target: 'online',
          actions: [assign({ libp2p: ({ event }) => event.libp2p, peerId: ({ event }) => event.peerId }), 'publish']
        }
      }
    },
    online: {
      invoke: { id: 'services', src: 'services', input: ({ context }) => ({ libp2p: context.libp2p! }) },
      entry: enqueueActions(({ context, enqueue }) => {
        for (const ref of Object.values(context.peers)) {
          if (ref.getSnapshot().context.bootstrap) enqueue.sendTo(ref, { type: 'peer.dial' })
        }
      }),
      on: {
        'host.started': {
          target: 'online',
          reenter: true,
          actions: [assign({ libp2p: ({ event }) => event.libp2p, peerId: ({ event }) => event.peerId }), 'publish']
        },
        'services.ready': { actions: emit(({ context }) => ({ type: 'node.ready' as const, peerId: context.peerId! })) },
        'services.failed': {
          actions: [
            assign({ servicesError: ({ event }) => event.error }),
            emit(({ event }) => ({ type: 'node.services-failed' as const, error: event.error }))
          ]
        }
      }
    }
  }
})

