import { setup, assign, enqueueActions, fromCallback } from 'xstate'
import type { EventObject } from 'xstate'
import type { NetworkKind, NodeEventMap } from './contracts.js'
import { pathOf, reachabilityOf, relaysOf } from './reachability-rules.js'
import type { PeerPath } from './reachability-rules.js'
import { eventOf } from './event-narrowing.js'

/** Where a peer was found. */
export type DiscoverySource = 'bootstrap' | 'dht' | 'mdns' | 'rendezvous'
export const discoverySources: DiscoverySource[] = ['bootstrap', 'dht', 'mdns', 'rendezvous']

/** Facts the watch and rendezvous actors report about one host. */
export type DiscoveryFact =
  | { type: 'discovery.found', source: DiscoverySource, peerId: string }
  /** The host's announced (verified) addresses, after any change. */
  | { type: 'discovery.addresses', addresses: string[] }
  /** A peer's open connections after one opened or closed. */
  | { type: 'discovery.connections', peerId: string, direct: number, relayed: number, remoteAddr?: string }
  /** A hole punch with a relayed peer ended: `detail` is the direct address, or why there is none. */
  | { type: 'discovery.punch', peerId: string, outcome: 'direct' | 'failed', detail: string }
  | { type: 'rendezvous.round', providers: number, dialled: number }
  | { type: 'rendezvous.failed', error: string }

type DiscoveryEventType = 'reachability.changed' | 'relay.reserved' | 'relay.lost' | 'connection.relayed' | 'connection.upgraded' | 'holepunch.failed'

/** What the discovery actor tells the node (and embedders, through `node.on`): rows of the public event table. */
export type DiscoveryEmitted = { [K in DiscoveryEventType]: { type: K } & NodeEventMap[K] }[DiscoveryEventType]

export interface DiscoveryInput {
  network: NetworkKind
  /** The host asks relays for a reservation (its relay region starts `searching`). */
  relayClient: boolean
  /** The host advertises and looks up a rendezvous namespace. */
  rendezvous: boolean
  /** The host punches holes to relayed peers (TCP, with STUN). */
  holePunch?: boolean
}

export interface DiscoveryContext {
  network: NetworkKind
  relayClient: boolean
  rendezvousOn: boolean
  holePunchOn: boolean
  /** Peer ids found, by source (each bounded to the latest FOUND_LIMIT). */
  found: Record<DiscoverySource, string[]>
  addresses: string[]
  relays: string[]
  /** How each connected peer is reached. */
  paths: Record<string, Exclude<PeerPath, 'none'>>
  /** Peers whose relayed connection became direct. */
  upgraded: string[]
  /** The last hole punch with each peer (bounded to the latest FOUND_LIMIT peers). */
  punches: Record<string, { outcome: 'direct' | 'failed', detail: string }>
  rendezvous: { rounds: number, providers: number, dialled: number, lastError?: string }
}

const FOUND_LIMIT = 1000

/**
 * Discovery and reachability of one host: which sources found which peers,
 * whether the host is publicly reachable, whether it holds relay reservations,
 * and which peers are reached through a relay or were upgraded to a direct
 * connection. The watch (libp2p events) and rendezvous (DHT advertise/find)
 * actors are provided by the runtime; this machine only decides.
 */
export const discoveryMachine = setup({
  types: {
    context: {} as DiscoveryContext,
    events: {} as DiscoveryFact,
    input: {} as DiscoveryInput,
    emitted: {} as DiscoveryEmitted
  },
  actors: {
    /** Provided by the runtime: reports DiscoveryFacts from one libp2p host. */
    watch: fromCallback<EventObject>(() => {}),
    /** Provided by the runtime: advertises and finds the rendezvous namespace, dialling what it finds. */
    rendezvous: fromCallback<EventObject>(() => {}),
    /** Provided by the runtime: punches holes to peers reached through a relay. */
    holePunch: fromCallback<EventObject>(() => {})
  },
  guards: {
    announcesPublic: ({ event }) => reachabilityOf(eventOf(event, 'discovery.addresses').addresses) === 'public',
    holdsReservation: ({ event }) => relaysOf(eventOf(event, 'discovery.addresses').addresses).length > 0,
    relayClient: ({ context }) => context.relayClient,
    rendezvousOn: ({ context }) => context.rendezvousOn,
    holePunchOn: ({ context }) => context.holePunchOn
  },
  actions: {
    recordAddresses: assign({ addresses: ({ event }) => eventOf(event, 'discovery.addresses').addresses }),
    announceReachability: enqueueActions(({ context, enqueue }) => {
      enqueue.emit({ type: 'reachability.changed', network: context.network, reachability: reachabilityOf(context.addresses), addresses: context.addresses })
    }),
    compareRelays: enqueueActions(({ context, event, enqueue }) => {
      const now = relaysOf(eventOf(event, 'discovery.addresses').addresses)
      for (const relay of now.filter((r) => !context.relays.includes(r))) enqueue.emit({ type: 'relay.reserved', network: context.network, relay })
      for (const relay of context.relays.filter((r) => !now.includes(r))) enqueue.emit({ type: 'relay.lost', network: context.network, relay })
      enqueue.assign({ relays: now })
    }),
    recordFound: assign({
      found: ({ context, event }) => {
        const { source, peerId } = eventOf(event, 'discovery.found')
        const list = context.found[source]
        if (list.includes(peerId)) return context.found
        return { ...context.found, [source]: [...list, peerId].slice(-FOUND_LIMIT) }
      }
    }),
    recordPath: enqueueActions(({ context, event, enqueue }) => {
      const fact = eventOf(event, 'discovery.connections')
      const before = context.paths[fact.peerId]
      const now = pathOf(fact)
      const { [fact.peerId]: _old, ...rest } = context.paths
      enqueue.assign({ paths: now === 'none' ? rest : { ...rest, [fact.peerId]: now } })
      if (before === 'relayed' && now === 'direct') {
        enqueue.assign({ upgraded: [...context.upgraded.filter((p) => p !== fact.peerId), fact.peerId].slice(-FOUND_LIMIT) })
        enqueue.emit({ type: 'connection.upgraded', network: context.network, peerId: fact.peerId, remoteAddr: fact.remoteAddr ?? '' })
      }
      if (now === 'relayed' && before !== 'relayed') enqueue.emit({ type: 'connection.relayed', network: context.network, peerId: fact.peerId })
    }),
    recordPunch: enqueueActions(({ context, event, enqueue }) => {
      const fact = eventOf(event, 'discovery.punch')
      const { [fact.peerId]: _old, ...rest } = context.punches
      const kept = Object.entries(rest).slice(-(FOUND_LIMIT - 1))
      enqueue.assign({ punches: { ...Object.fromEntries(kept), [fact.peerId]: { outcome: fact.outcome, detail: fact.detail } } })
      if (fact.outcome === 'failed') enqueue.emit({ type: 'holepunch.failed', network: context.network, peerId: fact.peerId, reason: fact.detail })
    }),
    recordRound: assign({
      rendezvous: ({ context, event }) => {
        const round = eventOf(event, 'rendezvous.round')
        return { rounds: context.rendezvous.rounds + 1, providers: round.providers, dialled: context.rendezvous.dialled + round.dialled }
      }
    }),
    recordRoundFailure: assign({
      rendezvous: ({ context, event }) => ({ ...context.rendezvous, lastError: eventOf(event, 'rendezvous.failed').error })
    })
  }
}).createMachine({
  id: 'discovery',
  context: ({ input }) => ({
    network: input.network,
    relayClient: input.relayClient,
    rendezvousOn: input.rendezvous,
    holePunchOn: input.holePunch === true,
    found: { bootstrap: [], dht: [], mdns: [], rendezvous: [] },
    addresses: [],
    relays: [],
    paths: {},
    upgraded: [],
    punches: {},
    rendezvous: { rounds: 0, providers: 0, dialled: 0 }
  }),
  invoke: { id: 'watch', src: 'watch' },
  type: 'parallel',
  on: {
    'discovery.found': { actions: 'recordFound' },
    'discovery.connections': { actions: 'recordPath' },
    'discovery.punch': { actions: 'recordPunch' }
  },
  states: {
    reachability: {
      initial: 'unknown',
      states: {
        unknown: {
          on: {
            'discovery.addresses': [
              { guard: 'announcesPublic', target: 'public', actions: 'recordAddresses' },
              { target: 'private', actions: 'recordAddresses' }
            ]
          }
        },
        public: {
          entry: 'announceReachability',
          on: {
            'discovery.addresses': [
              { guard: 'announcesPublic', actions: 'recordAddresses' },
              { target: 'private', actions: 'recordAddresses' }
            ]
          }
        },
        private: {
          entry: 'announceReachability',
          on: {
            'discovery.addresses': [
              { guard: 'announcesPublic', target: 'public', actions: 'recordAddresses' },
              { actions: 'recordAddresses' }
            ]
          }
        }
      }
    },
    relay: {
      initial: 'deciding',
      states: {
        deciding: { always: [{ guard: 'relayClient', target: 'searching' }, { target: 'off' }] },
        off: {},
        searching: {
          on: {
            'discovery.addresses': [
              { guard: 'holdsReservation', target: 'reserved', actions: 'compareRelays' },
              { actions: 'compareRelays' }
            ]
          }
        },
        reserved: {
          on: {
            'discovery.addresses': [
              { guard: 'holdsReservation', actions: 'compareRelays' },
              { target: 'searching', actions: 'compareRelays' }
            ]
          }
        }
      }
    },
    rendezvous: {
      initial: 'deciding',
      states: {
        deciding: { always: [{ guard: 'rendezvousOn', target: 'running' }, { target: 'off' }] },
        off: {},
        running: {
          invoke: { id: 'rendezvous', src: 'rendezvous' },
          on: {
            'rendezvous.round': { actions: 'recordRound' },
            'rendezvous.failed': { actions: 'recordRoundFailure' }
          }
        }
      }
    },
    holePunch: {
      initial: 'deciding',
      states: {
        deciding: { always: [{ guard: 'holePunchOn', target: 'running' }, { target: 'off' }] },
        off: {},
        running: { invoke: { id: 'holePunch', src: 'holePunch' } }
      }
    }
  }
})
