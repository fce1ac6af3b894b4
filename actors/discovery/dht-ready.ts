import type { DmsLibp2p } from '../libp2p-node.js'

/**
 * Resolve once the node's DHT has a peer to ask (its routing table is not
 * empty), or when `signal` aborts; at once without a DHT.
 *
 * Without a relay client the DHT is built with `allowQueryWithZeroPeers`, so a
 * lookup does not wait for kad-dht's first self-query (a walk of the whole
 * network on a small one, about a second) but also does not wait for a peer to
 * start from: this is that wait, for the callers that look something up.
 */
export async function dhtHasPeers (libp2p: DmsLibp2p, signal: AbortSignal): Promise<void> {
  const table = libp2p.services.dht?.routingTable
  while (table != null && table.size === 0 && !signal.aborted) {
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}
