import type { DiscoveryContext } from '../../machines/discovery.js'
import type { DiscoveryConfig } from './config.js'
import type { DiscoveryStatus } from '../events.js'

/** The mechanisms a configuration switches on, as status lists them. */
export function mechanismsOf (discovery: DiscoveryConfig): string[] {
  return [
    ...(discovery.dht ? [`dht ${discovery.dhtPrefix}/kad/1.0.0`] : []),
    ...(discovery.rendezvous !== '' ? [`rendezvous ${discovery.rendezvous}`] : []),
    ...(discovery.relayClient ? ['relay-client'] : []),
    ...(discovery.relayServer ? ['relay-server'] : []),
    ...(discovery.autonat ? ['autonat'] : []),
    ...(discovery.holePunching ? ['hole-punching'] : []),
    ...(discovery.stun.length > 0 ? [`stun ${discovery.stun.join(' ')}`] : []),
    ...(discovery.mdns ? ['mdns'] : []),
    ...(discovery.announce.length > 0 ? [`announce ${discovery.announce.join(' ')}`] : [])
  ]
}

type Snapshot = { value: { reachability: string, relay: string }, context: DiscoveryContext }

/** Read a discovery actor's snapshot as status (no I/O). */
export function readDiscoveryStatus (snapshot: Snapshot, discovery: DiscoveryConfig): DiscoveryStatus {
  const { context, value } = snapshot
  const relay = value.relay === 'reserved' || value.relay === 'searching' ? value.relay : 'off'
  return {
    network: context.network,
    mechanisms: mechanismsOf(discovery),
    reachability: value.reachability as DiscoveryStatus['reachability'],
    relay,
    relays: context.relays,
    found: {
      bootstrap: context.found.bootstrap.length,
      dht: context.found.dht.length,
      mdns: context.found.mdns.length,
      rendezvous: context.found.rendezvous.length
    },
    relayedPeers: Object.entries(context.paths).filter(([, path]) => path === 'relayed').map(([peer]) => peer).sort(),
    upgradedPeers: context.upgraded,
    punched: Object.entries(context.punches)
      .filter(([peer, punch]) => punch.outcome === 'direct' && context.paths[peer] === 'direct')
      .map(([peerId, punch]) => ({ peerId, remoteAddr: punch.detail })),
    noDirectPath: Object.entries(context.punches)
      .filter(([peer, punch]) => punch.outcome === 'failed' && context.paths[peer] === 'relayed')
      .map(([peerId, punch]) => ({ peerId, reason: punch.detail })),
    ...(context.rendezvousOn ? { rendezvous: { namespace: discovery.rendezvous, ...context.rendezvous } } : {})
  }
}
