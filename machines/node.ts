import { setup, assign, emit, enqueueActions, fromCallback, sendTo, stopChild } from 'xstate'
import type { ActorRefFrom, AnyActorLogic, EventObject } from 'xstate'
import { hostMachine } from './host.js'
import type { HostReport, SwarmRelayRole } from './host.js'
import { peerMachine } from './peer.js'
import type { PeerRequest } from './peer.js'
import type { Libp2pHandle, NetworkKind, NodeEvent } from './contracts.js'
import { dialTargetFor, hostId, peerIdOfTarget, peerKey, peerSystemId } from './node-ids.js'
import { PEER_FACT_TYPES, peerFactTypes, toPublicEvent } from './node-events.js'
import { oldestDeparted, withoutKey } from './peer-roster.js'
import { eventOf, errorOf } from './event-narrowing.js'

export type PeerRef = ActorRefFrom<typeof peerMachine>

export interface NodeInput {
  listen: string[]
  /** Bootstrap multiaddrs, each with /p2p/<peer id>. */
  bootstrap: string[]
  redialBaseMs: number
  redialMaxMs: number
  /** @default 300000 */
  forgetAfterMs?: number
  /** Peer actors kept at most: past it, a new peer's actor replaces the disconnected one met first. @default 256 */
  maxKnownPeers?: number
}

export interface NodeContext {
  input: NodeInput
  /** Peer actors by `${network}:${peerId}`. */
  peers: Record<string, PeerRef>
  /** The running libp2p node of each host, for its services actor. */
  libp2p: Partial<Record<NetworkKind, Libp2pHandle>>
  peerId?: string
  servicesError?: string
  dialCounter: number
}

/** Services attached to a running host (messenger, protocol handlers); provided by the runtime. */
export type ServicesEvent = { type: 'services.ready' } | { type: 'services.failed', error: string }

/** Commands for the private host (the private swarm drives these). */
export type PrivateHostCommand =
  | { type: 'private.start', listen?: string[], relay?: SwarmRelayRole }
  | { type: 'private.restart' }
  | { type: 'private.stop' }

/**
 * Features (swarm, VPN, discovery, the messengers) run as children of the node,
 * in its one actor system: the runtime hands the node their logic, already
 * provided with its effects, and the node spawns them under their systemId.
 */
export type FeatureCommand =
  | { type: 'feature.spawn', systemId: string, logic: AnyActorLogic, input?: unknown }
  | { type: 'feature.stop', systemId: string }

export type NodeMachineEvent = HostReport | PeerRequest | (ServicesEvent & { network: NetworkKind }) | PrivateHostCommand | FeatureCommand

/** Emitted by the node actor: the public events, plus readiness. */
export type NodeEmitted =
  | NodeEvent
  | { type: 'node.ready', network: NetworkKind, peerId: string }
  | { type: 'node.services-failed', network: NetworkKind, error: string }


const describe = (error: unknown): string => error instanceof Error ? error.message : String(error)

/**
 * The root actor: runs the public host (and, for a private swarm, a private host
 * beside it), keeps one actor per known peer and network fed with bridge facts,
 * redials bootstrap peers, attaches services to each running host, and emits the
 * public events embedders subscribe to.
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
    services: fromCallback<EventObject, { libp2p: Libp2pHandle, network: NetworkKind }>(({ input, sendBack }) => {
      sendBack({ type: 'services.ready', network: input.network })
    })
  },
  guards: {
    isPublic: ({ event }) => 'network' in event && event.network === 'public',
    isPrivate: ({ event }) => 'network' in event && event.network === 'private'
  },
  actions: {
    publish: enqueueActions(({ event, enqueue }) => {
      const published = toPublicEvent(event)
      if (published != null) enqueue.emit(published)
    }),
    rememberHost: assign(({ context, event }) => {
      const started = eventOf(event, 'host.started')
      return { libp2p: { ...context.libp2p, [started.network]: started.libp2p }, peerId: started.peerId }
    }),
    forgetHost: assign(({ context, event }) => {
      if (!('network' in event)) return {}
      const { [event.network]: _gone, ...rest } = context.libp2p
      return { libp2p: rest }
    }),
    routeToPeer: enqueueActions(({ context, event, enqueue }) => {
      const fact = eventOf(event, [...PEER_FACT_TYPES])
      if (fact.peerId === context.peerId) return
      const key = peerKey(fact.network, fact.peerId)
      if (context.peers[key] == null) {
        // at the cap, the oldest disconnected peer that is not a bootstrap peer makes room (connected
        // peers are bounded by the connection manager; the others only by who ever passed by)
        const evicted = Object.keys(context.peers).length >= (context.input.maxKnownPeers ?? 256) ? oldestDeparted(context.peers) : undefined
        if (evicted != null) {
          enqueue.stopChild(context.peers[evicted]!)
          enqueue.assign({ peers: ({ context }) => withoutKey(context.peers, evicted) })
        }
        enqueue.assign({
          peers: ({ context, spawn }) => ({
            ...context.peers,
            [key]: spawn('peer', {
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
          })
        })
      }
      enqueue.sendTo(({ context: latest }) => latest.peers[key]!, fact)
    }),
    dialBootstrapPeers: enqueueActions(({ context, enqueue }) => {
      for (const ref of Object.values(context.peers)) {
        if (ref.getSnapshot().context.bootstrap && ref.getSnapshot().context.network === 'public') enqueue.sendTo(ref, { type: 'peer.dial' })
      }
    }),
    announceReady: emit(({ context, event }) => ({
      type: 'node.ready' as const, network: eventOf(event, 'services.ready').network, peerId: context.peerId!
    })),
    announceServicesFailed: emit(({ event }) => {
      const failed = eventOf(event, 'services.failed')
      return { type: 'node.services-failed' as const, network: failed.network, error: failed.error }
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
    return { input, peers, libp2p: {}, dialCounter: 0 }
  },
  invoke: {
    id: 'host.public',
    systemId: 'host.public',
    src: 'host',
    input: ({ context }) => ({ network: 'public' as const, listen: context.input.listen })
  },
  type: 'parallel',
  on: {
    'libp2p.*': [
      { guard: ({ event }) => peerFactTypes.has(event.type), actions: ['routeToPeer', 'publish'] },
      { actions: 'publish' }
    ],
    'peer.dial-requested': {
      actions: enqueueActions(({ context, event, enqueue }) => {
        enqueue.assign({ dialCounter: context.dialCounter + 1 })
        enqueue.sendTo(hostId(event.network), { type: 'host.dial', reqId: `redial:${context.dialCounter}`, target: dialTargetFor(event) })
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
    'host.stopping': {
      actions: enqueueActions(({ context, event, enqueue }) => {
        for (const ref of Object.values(context.peers)) {
          const peer = ref.getSnapshot().context
          if (peer.network === event.network) enqueue.sendTo(ref, { type: 'libp2p.peer.disconnected', peerId: peer.peerId })
        }
      })
    },
    'feature.spawn': {
      actions: enqueueActions(({ event, enqueue }) => {
        // xstate types spawnChild for the actors named in setup; a feature's logic comes with the event
        const spawn = enqueue.spawnChild as unknown as (logic: AnyActorLogic, options: { id: string, systemId: string, input?: unknown }) => void
        spawn(event.logic, { id: event.systemId, systemId: event.systemId, ...(event.input !== undefined ? { input: event.input } : {}) })
      })
    },
    'feature.stop': { actions: stopChild(({ event }) => event.systemId) },
    // a child that fails is reported; the node and its other children keep running
    'xstate.error.actor.*': {
      actions: emit(({ event }) => ({
        type: 'actor.failed' as const,
        systemId: event.type.slice('xstate.error.actor.'.length),
        error: describe(errorOf(event))
      }))
    },
    'peer.forgotten': {
      actions: enqueueActions(({ context, event, enqueue }) => {
        const key = peerKey(event.network, event.peerId)
        const ref = context.peers[key]
        if (ref == null) return
        enqueue.stopChild(ref)
        enqueue.assign({ peers: withoutKey(context.peers, key) })
      })
    }
  },
  states: {
    public: {
      initial: 'offline',
      on: {
        'host.failed': { guard: 'isPublic', target: '.offline', actions: ['publish', 'forgetHost'] },
        'host.stopped': { guard: 'isPublic', target: '.offline', actions: ['publish', 'forgetHost'] }
      },
      states: {
        offline: {
          on: { 'host.started': { guard: 'isPublic', target: 'online', actions: ['rememberHost', 'publish'] } }
        },
        online: {
          invoke: { id: 'services.public', src: 'services', input: ({ context }) => ({ libp2p: context.libp2p.public!, network: 'public' as const }) },
          entry: 'dialBootstrapPeers',
          on: {
            'host.started': { guard: 'isPublic', target: 'online', reenter: true, actions: ['rememberHost', 'publish'] },
            'services.ready': { guard: 'isPublic', actions: 'announceReady' },
            'services.failed': { guard: 'isPublic', actions: [assign({ servicesError: ({ event }) => event.error }), 'announceServicesFailed'] }
          }
        }
      }
    },
    private: {
      initial: 'absent',
      states: {
        absent: {
          on: {
            'private.start': {
              target: 'offline',
              actions: enqueueActions(({ event, enqueue }) => {
                enqueue.spawnChild('host', {
                  id: 'host.private',
                  systemId: 'host.private',
                  input: { network: 'private', listen: event.listen ?? ['/ip4/127.0.0.1/tcp/0'], ...(event.relay != null ? { relay: event.relay } : {}) }
                })
                enqueue.sendTo('host.private', { type: 'host.start' })
              })
            }
          }
        },
        offline: {
          on: {
            'host.started': { guard: 'isPrivate', target: 'online', actions: ['rememberHost', 'publish'] },
            'host.failed': { guard: 'isPrivate', actions: ['publish', 'forgetHost'] },
            'private.restart': { actions: sendTo('host.private', { type: 'host.start' }) },
            'private.stop': { target: 'stopping', actions: sendTo('host.private', { type: 'host.stop' }) }
          }
        },
        online: {
          invoke: { id: 'services.private', src: 'services', input: ({ context }) => ({ libp2p: context.libp2p.private!, network: 'private' as const }) },
          on: {
            'host.started': { guard: 'isPrivate', target: 'online', reenter: true, actions: ['rememberHost', 'publish'] },
            'host.failed': { guard: 'isPrivate', target: 'offline', actions: ['publish', 'forgetHost'] },
            'services.ready': { guard: 'isPrivate', actions: 'announceReady' },
            'services.failed': { guard: 'isPrivate', actions: [assign({ servicesError: ({ event }) => event.error }), 'announceServicesFailed'] },
            'private.restart': { actions: sendTo('host.private', { type: 'host.restart' }) },
            'private.stop': { target: 'stopping', actions: sendTo('host.private', { type: 'host.stop' }) }
          }
        },
        stopping: {
          on: {
            'host.stopped': { guard: 'isPrivate', target: 'absent', actions: ['publish', 'forgetHost', stopChild('host.private')] },
            'host.failed': { guard: 'isPrivate', target: 'absent', actions: ['publish', 'forgetHost', stopChild('host.private')] }
          }
        }
      }
    }
  }
})
