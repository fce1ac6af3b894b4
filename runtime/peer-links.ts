import { stopWhenStarted } from '../actors/libp2p-host.js'
import { explainNetworkError } from '../actors/network-errors.js'
import { pingOnce } from '../actors/ping-client.js'
import type { PingResult } from '../actors/ping-client.js'
import type { DmsLibp2p } from '../actors/libp2p-node.js'
import { DmsError } from './errors.js'
import type { HostControl } from './host-control.js'
import { parsePeerId } from './peer-id.js'

/** One ping to `peer` over `libp2p` (it dials the peer when not connected): the round trip and the connection it took. */
export async function pingPeer (libp2p: DmsLibp2p | undefined, peer: string, timeoutMs: number): Promise<PingResult> {
  const peerId = parsePeerId(peer)
  if (libp2p == null) throw new DmsError('HOST_NOT_RUNNING', 'the node is not started')
  if (peerId.equals(libp2p.peerId)) throw new DmsError('BAD_PEER_ID', `${peer} is this node's own id`)
  try {
    return await pingOnce(libp2p, peerId, AbortSignal.timeout(timeoutMs))
  } catch (err) {
    throw new DmsError('PING_FAILED', `no ping reply from ${peer}: ${explainNetworkError(err)}`, { cause: err })
  }
}

/** Close every connection to `peer` on both hosts; how many there were. */
export async function hangUp (hosts: HostControl, peer: string): Promise<{ closed: number }> {
  const peerId = parsePeerId(peer)
  let closed = 0
  for (const network of ['public', 'private'] as const) {
    const libp2p = hosts.libp2p(network)
    const connections = libp2p?.getConnections(peerId).length ?? 0
    // hanging up on a peer we have no connection to would only add it to the peer store (a ghost row)
    if (libp2p == null || connections === 0) continue
    closed += connections
    await libp2p.hangUp(peerId)
  }
  return { closed }
}

/** The libp2p nodes a node's actors created that have not stopped: none may outlive the node. */
export class LiveLibp2p {
  private readonly live = new Set<DmsLibp2p>()

  track (libp2p: DmsLibp2p): void {
    this.live.add(libp2p)
    libp2p.addEventListener('stop', () => { this.live.delete(libp2p) }, { once: true })
  }

  /** Stop every one, also one still starting in a host restart that was under way. */
  async stopAll (): Promise<void> {
    await Promise.allSettled([...this.live].map(async (libp2p) => { await stopWhenStarted(libp2p) }))
    this.live.clear()
  }
}
