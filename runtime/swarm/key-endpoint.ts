import type { Connection, Stream } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import type { NetworkKind } from '../events.js'
import type { DmsLibp2p } from '../../actors/libp2p-node.js'
import { readOne, writeOne } from '../../actors/swarm/one-shot.js'
import { RateLimiter } from '../../actors/rate-limit.js'
import type { RateInit } from '../../actors/rate-limit.js'
import { SWARM_KEY_PROTOCOL, validateSwarmKeyMessage } from './key-exchange.js'
import type { EvictionNotice, KeyRequest, LeaveNotice, RotationNotice, SwarmKeyMessage } from './key-exchange.js'
import { traced } from '../../actors/log.js'
import type { Logger } from '../../actors/log.js'

export interface KeyEndpointLimits {
  /** Key-exchange streams per remote peer. @default { perSecond: 2, burst: 6 } */
  perPeer?: RateInit
  /** Key-exchange streams per remote IP address (many identities, one host). @default { perSecond: 20, burst: 40 } */
  perIp?: RateInit
  /** How long a peer may take to send its one message. @default 5000 */
  readTimeoutMs?: number
}

export interface KeyEndpointHandlers {
  /** Owner: answer one key request (the stream is the caller's to close). */
  request?: (stream: Stream, remotePeer: string, request: KeyRequest) => Promise<void>
  /** Member: take one rotation notice. */
  rotation?: (stream: Stream, remotePeer: string, notice: RotationNotice) => Promise<void>
  /** Owner: take a member's word that it left. */
  leave?: (stream: Stream, remotePeer: string, notice: LeaveNotice) => Promise<void>
  /** Member: take the owner's eviction notice. */
  eviction?: (stream: Stream, remotePeer: string, notice: EvictionNotice) => Promise<void>
  /**
   * Member: whether a peer is its owner, whose notices are not rate-limited (rotations back to
   * back must all arrive; Noise authenticated the owner, and the member follows it anyway).
   */
  isOwner?: (remotePeer: string) => boolean
}

export interface KeyEndpointStats {
  streams: number
  rateLimited: number
  malformed: number
  /** Streams refused because this node has no role for that message. */
  refused: number
}

/**
 * `/dms/swarm-key/1.0.0` on every running host, but only while this node owns
 * or is a member of a swarm: a node with no swarm does not even speak the
 * protocol. Every stream is rate-limited per peer and per IP before a byte is
 * read, and must deliver its one message within a short deadline.
 */
export class KeyEndpoint {
  private readonly hosts = new Map<NetworkKind, DmsLibp2p>()
  private handlers: KeyEndpointHandlers = {}
  private readonly perPeer: RateLimiter
  private readonly perIp: RateLimiter
  private readonly readTimeoutMs: number
  readonly stats: KeyEndpointStats = { streams: 0, rateLimited: 0, malformed: 0, refused: 0 }

  constructor (limits: KeyEndpointLimits = {}, private readonly log: Logger) {
    this.perPeer = new RateLimiter(limits.perPeer ?? { perSecond: 2, burst: 6 })
    this.perIp = new RateLimiter(limits.perIp ?? { perSecond: 20, burst: 40 })
    this.readTimeoutMs = limits.readTimeoutMs ?? 5000
  }

  get enabled (): boolean {
    return this.handlers.request != null || this.handlers.rotation != null
  }

  /** Set what this node answers (owner: requests and leaves; member: rotations and evictions); none unregisters the protocol. */
  async serve (handlers: KeyEndpointHandlers): Promise<void> {
    const was = this.enabled
    this.handlers = handlers
    if (was === this.enabled) return
    await Promise.all([...this.hosts.values()].map(async (libp2p) => { await (this.enabled ? this.register(libp2p) : this.unregister(libp2p)) }))
  }

  async attach (libp2p: DmsLibp2p, network: NetworkKind): Promise<void> {
    this.hosts.set(network, libp2p)
    if (this.enabled) await this.register(libp2p)
  }

  async detach (network: NetworkKind): Promise<void> {
    const libp2p = this.hosts.get(network)
    this.hosts.delete(network)
    if (libp2p != null) await this.unregister(libp2p)
  }

  host (network: NetworkKind): DmsLibp2p | undefined {
    return this.hosts.get(network)
  }

  /**
   * Deliver one signed notice to a peer and wait for its acknowledgement: over the private
   * network where it is connected, else the public one, each within `timeoutMs`. False when
   * neither took it.
   */
  async deliver (peer: string, notice: SwarmKeyMessage, timeoutMs: number): Promise<boolean> {
    for (const kind of ['private', 'public'] as const) {
      const libp2p = this.hosts.get(kind)
      if (libp2p == null) continue
      try {
        // dial even without an open connection: the peer store knows the peer's addresses
        const stream = await libp2p.dialProtocol(peerIdFromString(peer), SWARM_KEY_PROTOCOL, { signal: AbortSignal.timeout(timeoutMs) })
        writeOne(stream, notice)
        await readOne(stream, timeoutMs)
        await stream.close().catch(() => { /* acknowledged already: the close is a courtesy */ })
        return true
      } catch (err) {
        this.log('%s notice to %s not taken over the %s network: %e', notice.kind, peer, kind, err)
      }
    }
    return false
  }

  private async register (libp2p: DmsLibp2p): Promise<void> {
    await libp2p.handle(SWARM_KEY_PROTOCOL, (stream, connection) => { void this.accept(stream, connection) }, { maxInboundStreams: 4, force: true })
  }

  private async unregister (libp2p: DmsLibp2p): Promise<void> {
    await libp2p.unhandle(SWARM_KEY_PROTOCOL).catch(traced(this.log, 'unhandle the key exchange'))
  }

  private async accept (stream: Stream, connection: Connection): Promise<void> {
    this.stats.streams++
    const remotePeer = connection.remotePeer.toString()
    const limited = this.handlers.isOwner?.(remotePeer) !== true
    if (limited && (!this.perPeer.take(remotePeer) || !this.perIp.take(ipOf(connection)))) {
      this.stats.rateLimited++
      stream.abort(new Error('rate limited'))
      return
    }
    try {
      let message
      try {
        message = validateSwarmKeyMessage(await readOne(stream, this.readTimeoutMs))
      } catch (err) {
        this.stats.malformed++
        throw err
      }
      const { request, rotation, eviction, leave } = this.handlers
      if (message.kind === 'request' && request != null) await request(stream, remotePeer, message)
      else if (message.kind === 'leave' && leave != null) await leave(stream, remotePeer, message)
      else if (message.kind === 'rotation' && rotation != null) await rotation(stream, remotePeer, message)
      else if (message.kind === 'eviction' && eviction != null) await eviction(stream, remotePeer, message)
      else {
        this.stats.refused++
        stream.abort(new Error(`this node takes no ${message.kind} now`))
      }
    } catch (err) {
      stream.abort(err as Error)
    }
  }
}

/** The remote IP of a connection (the whole address when it has none, e.g. a relayed one). */
function ipOf (connection: Connection): string {
  const ip = connection.remoteAddr.getComponents().find((c) => c.name === 'ip4' || c.name === 'ip6')
  return ip?.value ?? connection.remoteAddr.toString()
}
