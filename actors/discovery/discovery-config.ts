/**
 * Discovery and reachability. Each mechanism is switched on here; all are off
 * by default in this release (see docs/discovery.md for why and what is next).
 */
export interface DiscoveryInit {
  /** Kademlia DHT: peer routing (`dial(peerId)` with no known address) and a peerstore kept current. @default false */
  dht?: boolean
  /** The DHT protocol is `<prefix>/kad/1.0.0`, so DMS networks never mix with IPFS's `/ipfs/kad/1.0.0`. @default '/dms' */
  dhtPrefix?: string
  /** Reserve a slot on circuit relays, so peers behind NAT can be reached through one. @default false */
  relayClient?: boolean
  /** Serve as a circuit relay for others, within `relayLimits`. For public bootstrap nodes. @default false */
  relayServer?: boolean
  /** Limits of a relay server. */
  relayLimits?: {
    /** Peers holding a reservation at once. @default 32 */
    maxReservations?: number
    /** Longest a relayed connection lives, in ms. @default 120000 */
    durationMs?: number
    /** Most bytes a relayed connection carries (each way). @default 16777216 */
    dataBytes?: number
  }
  /** AutoNAT: ask peers to dial back, to learn whether this node is publicly reachable. @default false */
  autonat?: boolean
  /** DCUtR: upgrade a relayed connection to a direct one by hole punching; implies `relayClient`. @default false */
  holePunching?: boolean
  /**
   * STUN servers (`host:port`, TCP) for TCP hole punching between two NATs: with one,
   * a relayed peer is also offered a punched direct connection. Implies `holePunching`. @default []
   */
  stun?: string[]
  /** mDNS on the local network. @default false */
  mdns?: boolean
  /** Advertise and find this rendezvous namespace through the DHT ('' = off; needs `dht`). @default '' */
  rendezvous?: string
  /** Time between rendezvous rounds, in ms. @default 60000 */
  rendezvousIntervalMs?: number
  /** Peers dialled per rendezvous round, at most. @default 8 */
  rendezvousMaxDials?: number
  /**
   * Addresses announced besides the listen addresses, e.g. a router's port
   * forward (`/ip4/<public ip>/tcp/4001`). @default []
   */
  announce?: string[]
}

export type DiscoveryConfig = Required<Omit<DiscoveryInit, 'relayLimits'>> & { relayLimits: Required<NonNullable<DiscoveryInit['relayLimits']>> }
