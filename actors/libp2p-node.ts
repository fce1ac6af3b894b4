import './polyfill.js'
import type { Libp2pHandle } from '../machines/contracts.js'
import { createLibp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import { ping } from '@libp2p/ping'
import { gossipsub } from '@libp2p/gossipsub'
import type { SingleKadDHT } from '@libp2p/kad-dht'
import type { DiscoveryConfig } from './discovery/discovery-config.js'
import type { Libp2p, PeerInfo, PrivateKey, ConnectionProtector, ComponentLogger } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import type { Identify } from '@libp2p/identify'
import type { Ping } from '@libp2p/ping'
import type { GossipSub } from '@libp2p/gossipsub'
import { defaultGossipConfig, gossipsubOptions } from './gossip-options.js'
import { RELAY_HOP_PROTOCOL, internalsOf, markMemberRelay, relayReservations } from './libp2p-internals.js'
import type { GossipConfig } from './gossip-options.js'
import { PendingUpgrades } from './pending-upgrades.js'
import { noiseCrypto } from './native/noise-aead.js'
import { tcpWithBatchedWrites } from './tcp-batched-writes.js'

/** The services every dms-network libp2p node carries. */
export type DmsServices = {
  identify: Identify
  ping: Ping
  pubsub: GossipSub
  /** The optional discovery services: present when discovery switches them on. */
  dht?: SingleKadDHT
  relay?: unknown
  autonat?: unknown
  dcutr?: unknown
  mdns?: unknown
}

export type DmsLibp2p = Libp2p<DmsServices>

/**
 * The node behind a machine's handle. Machines hold a running node as an opaque
 * `Libp2pHandle` (machines/contracts.ts); every handle is a node createLibp2pNode made.
 */
export const asLibp2p = (handle: Libp2pHandle): DmsLibp2p => handle as DmsLibp2p


/** Who may use a member relay (see `memberRelay`); asked at each reservation and each circuit. */
export interface MemberRelay {
  reserve: (peer: string) => boolean
  connect: (source: string, destination: string) => boolean
}

/** A connection protector factory, as libp2p takes it (e.g. `preSharedKey({ psk })`). */
export type ProtectorFactory = (components: { logger: ComponentLogger }) => ConnectionProtector

export interface Libp2pNodeInit {
  /** The node's identity; the peer id derives from it. */
  privateKey: PrivateKey
  /** Where libp2p logs. @default libp2p's debug logger */
  logger?: ComponentLogger
  /** Multiaddrs to listen on. @default ['/ip4/127.0.0.1/tcp/0'] */
  listen?: string[]
  /** Private-network protector; absent for the public network. */
  connectionProtector?: ProtectorFactory
  /** Milliseconds a dial may take, including the handshake. @default 5000 */
  dialTimeoutMs?: number
  /**
   * Inbound connections accepted per second per remote host. libp2p's default (5)
   * makes local multi-node tests and bootstrap nodes refuse dials with ECONNRESET.
   * @default 100
   */
  inboundConnectionThreshold?: number
  /** Inbound connections still upgrading at once. @default 64 */
  maxIncomingPendingConnections?: number
  /** Of those, from one IP address (or IPv6 /64): one source cannot hold every slot. @default 16 */
  maxPendingUpgradesPerIp?: number
  /** Time an inbound connection has to finish its upgrade (PSK nonce, Noise, muxer). @default 5000 */
  inboundUpgradeTimeoutMs?: number
  /** Upper bound on open connections. @default 300 */
  maxConnections?: number
  /** Discovery and reachability services; none when absent. */
  discovery?: DiscoveryConfig
  /** What identify tells peers this node runs, e.g. `dms-network/0.2.0`. */
  agentVersion?: string
  /** Gossipsub tuning (docs/protocols.md); gossipsub's defaults where absent. */
  pubsub?: GossipConfig
  /** Peer ids given scores that let them hand us peers on prune (the bootstrap peers). */
  trustedPeers?: string[]
  /** Low-rate topics to score (the bid-request topic). */
  sparseTopics?: string[]
  /**
   * A private swarm's own relay, on its private host: the owner `serve`s as a circuit relay
   * without data or time limits (only swarm members can reach a private host at all), and
   * members `reserve` a slot on it, so members behind NAT reach each other through the owner.
   */
  swarmRelay?: 'serve' | 'reserve'
  /**
   * A relay without limits for the members of a group this node leads (a public VPN): only
   * peers `reserve` allows hold a slot, only circuits `connect` allows are relayed, so members
   * behind NAT reach each other through the leader. The host also gets the relay transport, to
   * reach members through such a relay. A public relay (`discovery.relayServer`, with limits)
   * takes precedence: a host runs one relay service.
   */
  memberRelay?: MemberRelay
  /**
   * An in-process simulated network (bench/fleet.ts): its transport in place of TCP (no relay
   * transport) and its connection encrypter in place of Noise, and no keep-alive pings (the
   * simulated links do not die silently), so one process can hold a fleet.
   */
  simulated?: { transport: (components: any) => unknown, encrypter: (components: any) => unknown }
  /**
   * Announce every address the host listens on, public IPs included, without waiting for
   * AutoNAT to confirm them (libp2p 3 announces a public listen address only once confirmed).
   * For a private swarm's host: only members can connect to it, AutoNAT does not run across
   * the network key, and members must learn where it listens. @default false
   */
  announceListenAddresses?: boolean
}

/**
 * Build a stopped libp2p node with the dms-network transport stack
 * (TCP + Noise + Yamux, identify, ping, gossipsub). It is created with
 * `start: false` so a caller can attach listeners before `start()` and see
 * `start` and `transport:listening`.
 */
export async function createLibp2pNode (init: Libp2pNodeInit): Promise<DmsLibp2p> {
  const discovery = init.discovery
  const listen = init.listen ?? ['/ip4/127.0.0.1/tcp/0']
  const relayClient = discovery?.relayClient === true || init.swarmRelay === 'reserve'
  const memberRelay = discovery?.relayServer === true ? undefined : init.memberRelay
  let self: DmsLibp2p | undefined
  const pending = new PendingUpgrades(init.maxPendingUpgradesPerIp ?? 16)
  const node = await createLibp2p({
    start: false,
    privateKey: init.privateKey,
    ...(init.logger != null ? { logger: init.logger } : {}),
    ...(init.agentVersion != null ? { nodeInfo: { userAgent: init.agentVersion } } : {}),
    addresses: {
      // '/p2p-circuit' asks the relay transport to hold a reservation on a relay it finds
      listen: relayClient ? [...listen, '/p2p-circuit'] : listen,
      appendAnnounce: discovery?.announce ?? []
    },
    // the relay transport also dials peers through their relays
    transports: init.simulated != null ? [init.simulated.transport as ReturnType<typeof tcp>] : [tcpWithBatchedWrites(), ...(relayClient || init.memberRelay != null ? [(await import('@libp2p/circuit-relay-v2')).circuitRelayTransport()] : [])],
    // Peers listening on 0.0.0.0 announce 127.0.0.1 and LAN addresses, and the DHT passes
    // them on: an address that is one of our own would only reach ourselves
    connectionGater: {
      denyDialMultiaddr: (address) => self != null && isOwnAddress(self, address.toString()),
      denyInboundConnection: pending.deny,
      denyInboundUpgradedConnection: (_peer, connection) => pending.upgraded(connection),
      ...(memberRelay != null
        ? {
            denyInboundRelayReservation: (peer) => !memberRelay.reserve(peer.toString()),
            denyOutboundRelayedConnection: (source, destination) => !memberRelay.connect(source.toString(), destination.toString())
          }
        : {})
    },
    connectionEncrypters: [init.simulated != null ? init.simulated.encrypter as ReturnType<typeof noise> : noise({ crypto: noiseCrypto() })],
    streamMuxers: [yamux()],
    ...(init.connectionProtector != null ? { connectionProtector: init.connectionProtector } : {}),
    connectionManager: {
      dialTimeout: init.dialTimeoutMs ?? 5000,
      inboundConnectionThreshold: init.inboundConnectionThreshold ?? 100,
      maxIncomingPendingConnections: init.maxIncomingPendingConnections ?? 64,
      // libp2p's 10 s default lets a socket that never speaks hold an upgrade slot that long
      inboundUpgradeTimeout: init.inboundUpgradeTimeoutMs ?? 5000,
      maxConnections: init.maxConnections ?? 300
    },
    // The monitor pings every connection and aborts it when a ping is late. On a
    // connection saturated by bulk traffic (VPN, private network) the ping waits
    // behind queued data for seconds; its 5 s default cut such connections.
    connectionMonitor: init.simulated != null ? { enabled: false } : { pingTimeout: { minTimeout: 30_000, maxTimeout: 60_000 } },
    services: {
      identify: identify(),
      ping: ping(),
      pubsub: gossipsub(gossipsubOptions(init.pubsub ?? defaultGossipConfig, init.trustedPeers ?? [], init.sparseTopics ?? [])),
      ...(discovery != null ? await discoveryServices({ ...discovery, relayClient }, () => self) : {}),
      ...(init.swarmRelay === 'serve' || memberRelay != null ? await unlimitedRelayServer(init.swarmRelay !== 'serve' && memberRelay != null) : {})
    }
  }) as DmsLibp2p
  self = node
  if (init.memberRelay != null) markMemberRelay(node, { service: memberRelay != null, guardDials: !relayClient && init.simulated == null })
  if (init.announceListenAddresses === true) node.addEventListener('transport:listening', () => { trustListenAddresses(node) })
  return node
}

/** Mark the host's listen addresses as confirmed, so it announces them (see `announceListenAddresses`). */
function trustListenAddresses (node: DmsLibp2p): void {
  const { transportManager, addressManager } = internalsOf(node)
  for (const address of transportManager.getAddrs()) addressManager.confirmObservedAddr(address, { type: 'transport', ttl: TEN_YEARS_MS })
}

const TEN_YEARS_MS = 10 * 365 * 24 * 3600 * 1000

/**
 * The swarm owner's or VPN leader's relay: no data or time limit on relayed connections, so they
 * are not "limited" and carry the VPN. A member relay starts `closed`: its hop protocol is taken
 * down as soon as the service starts, before the host listens, so no peer sees it until the node
 * leads a VPN (setMemberRelayOpen).
 */
async function unlimitedRelayServer (closed: boolean): Promise<Record<string, (components: any) => unknown>> {
  const { circuitRelayServer } = await import('@libp2p/circuit-relay-v2')
  const factory = circuitRelayServer({ reservations: { maxReservations: 1024, applyDefaultLimit: false } })
  if (!closed) return { relay: factory }
  return {
    relay: (components: { registrar: { unhandle: (protocol: string) => Promise<void> } }) => {
      const service = factory(components as never) as unknown as { start: () => Promise<void> }
      const start = service.start.bind(service)
      service.start = async () => { await start(); await components.registrar.unhandle(RELAY_HOP_PROTOCOL) }
      return service
    }
  }
}

/**
 * A relay's DHT answers keep every address of a peer and add the relayed ones
 * through this relay when the peer holds a reservation here. libp2p does not
 * store a peer's addresses through ourselves, so without this the one node
 * that knows how to reach a peer behind NAT would never say so.
 */
function withOwnRelayAddresses (self: () => DmsLibp2p | undefined): (info: PeerInfo) => PeerInfo {
  return (info) => {
    const libp2p = self()
    if (libp2p == null || !relayReservations(libp2p).has(info.id.toString())) return info
    const through = libp2p.getMultiaddrs().filter((address) => !address.toString().includes('/p2p-circuit')).map((address) => multiaddr(`${address.toString()}/p2p-circuit`))
    return { ...info, multiaddrs: [...info.multiaddrs, ...through] }
  }
}

/** Whether `address` (with or without /p2p) is one this node listens on. */
function isOwnAddress (libp2p: DmsLibp2p, address: string): boolean {
  // a relayed address is ours when its relay part is
  const bare = address.split('/p2p-circuit')[0]!.replace(/\/p2p\/[^/]+$/, '')
  return libp2p.getMultiaddrs().some((own) => own.toString().replace(/\/p2p\/[^/]+$/, '') === bare)
}

/**
 * The optional discovery and reachability services, as `discovery` asks. Each
 * module is loaded only when switched on: together they are a third of a
 * daemon's start time and memory.
 */
async function discoveryServices (discovery: DiscoveryConfig, self: () => DmsLibp2p | undefined): Promise<Record<string, (components: any) => unknown>> {
  const services: Record<string, (components: any) => unknown> = {}
  if (discovery.dht) {
    const { kadDHT, passthroughMapper } = await import('@libp2p/kad-dht')
    services.dht = kadDHT({
      protocol: `${discovery.dhtPrefix}/kad/1.0.0`,
      // DMS networks include LANs and private swarms: keep every address, and answer queries from the start
      peerInfoMapper: discovery.relayServer ? withOwnRelayAddresses(self) : passthroughMapper,
      clientMode: false,
      // A lookup need not wait for the first self-query (a walk of the whole network on a small
      // one, about 1 s): it starts from the peers already in the routing table, and callers wait
      // only for the first of those (actors/discovery/dht-ready.ts). Not with a relay client: its
      // relay search walks the DHT at random in a loop, which spins when queries end at once.
      allowQueryWithZeroPeers: !discovery.relayClient,
      initialQuerySelfInterval: 0
    })
  }
  if (discovery.relayServer) {
    const { circuitRelayServer } = await import('@libp2p/circuit-relay-v2')
    services.relay = circuitRelayServer({
      reservations: {
        maxReservations: discovery.relayLimits.maxReservations,
        defaultDurationLimit: discovery.relayLimits.durationMs,
        defaultDataLimit: BigInt(discovery.relayLimits.dataBytes)
      }
    })
  }
  // v2: the server dials back on a new connection (v1 in js-libp2p reuses the one the
  // request came on, then closes it, so it never confirms an already connected peer)
  if (discovery.autonat) services.autonat = (await import('@libp2p/autonat-v2')).autoNATv2()
  if (discovery.holePunching) services.dcutr = (await import('@libp2p/dcutr')).dcutr()
  // a service rather than a peerDiscovery entry, so the discovery watch can tell its finds apart
  if (discovery.mdns) services.mdns = (await import('@libp2p/mdns')).mdns()
  return services
}
