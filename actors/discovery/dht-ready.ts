import type { DmsLibp2p } from '../libp2p-node.js'

/**
 * Resolve once the node's DHT has a peer to ask (its routing table is not
 * empty), or when `signal` aborts. The DHT is built with
 * `allowQueryWithZeroPeers`, so lookups do not wait for its first self-query
 * (a whole walk of a small network, about a second); this is the one wait they
 * still need, for the peer they will start from. Resolves at once without a DHT.
 */
export async function dhtHasPeers (libp2p: DmsLibp2p, signal: AbortSignal): Promise<void> {
  const table = libp2p.services.dht?.routingTable
  while (table != null && table.size === 0 && !signal.aborted) {
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}
