import type { ActorRefFrom } from 'xstate'
import { discoveryMachine } from '../../machines/discovery.js'
import type { DiscoveryEmitted } from '../../machines/discovery.js'
import { discoveryWatch } from '../../actors/discovery/discovery-watch.js'
import { rendezvousLoop } from '../../actors/discovery/rendezvous.js'
import { holePunchLoop } from '../../actors/discovery/hole-punch.js'
import { parseStunServer } from '../../actors/discovery/stun.js'
import { peerIdOfTarget } from '../../machines/node-ids.js'
import type { FeatureActors } from '../feature-actors.js'
import type { HostAttachment } from '../host-attachment.js'
import type { NodeConfig } from '../config.js'
import type { NetworkKind, NodeEvent } from '../events.js'

export type DiscoveryActor = ActorRefFrom<typeof discoveryMachine>

/** Time one hole punch may take: STUN, the exchange over the relay, and the dial (SYNs are retried after 1 and 3 s). */
const HOLE_PUNCH_TIMEOUT_MS = 8000

/** systemId of a host's discovery actor. */
export const discoverySystemId = (network: NetworkKind): string => `discovery.${network}`

/**
 * Runs a discovery actor beside each running host (public and private): it
 * watches the host's libp2p events, runs rendezvous rounds when configured, and
 * its reachability, relay and upgrade events reach the node's subscribers.
 */
export function discoveryAttachment (init: { config: NodeConfig, features: FeatureActors, emit: (event: NodeEvent) => void }): HostAttachment {
  const { config, features } = init
  const discovery = config.discovery
  const subscriptions: Partial<Record<NetworkKind, { unsubscribe: () => void }>> = {}
  return {
    name: 'discovery',
    networks: ['public', 'private'],
    attach: async (libp2p, network) => {
      const systemId = discoverySystemId(network)
      features.stop(systemId)
      // bootstrap peers belong to the public network; a private swarm has its own bootstrap node
      const bootstrap = network === 'public' ? config.bootstrap.map(peerIdOfTarget).filter((p): p is string => p != null) : []
      const logic = discoveryMachine.provide({
        actors: {
          watch: discoveryWatch(libp2p, bootstrap),
          rendezvous: rendezvousLoop(libp2p, {
            namespace: discovery.rendezvous,
            intervalMs: discovery.rendezvousIntervalMs,
            firstRoundMs: Math.min(2000, discovery.rendezvousIntervalMs),
            maxDials: discovery.rendezvousMaxDials,
            dialTimeoutMs: config.dialTimeoutMs,
            queryTimeoutMs: 20_000
          }),
          holePunch: holePunchLoop(libp2p, { stun: discovery.stun.map(parseStunServer), timeoutMs: HOLE_PUNCH_TIMEOUT_MS })
        }
      })
      const actor = features.run(systemId, logic, {
        input: { network, relayClient: discovery.relayClient, rendezvous: discovery.dht && discovery.rendezvous !== '', holePunch: discovery.holePunching && discovery.stun.length > 0 }
      })
      subscriptions[network] = actor.on('*', (event: DiscoveryEmitted) => { init.emit(event) })
    },
    detach: async (network) => {
      subscriptions[network]?.unsubscribe()
      delete subscriptions[network]
      features.stop(discoverySystemId(network))
    }
  }
}
