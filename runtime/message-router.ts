import { createMessenger } from '../actors/messenger/messenger.js'
import type { Messenger, MessageHandler, MessengerStats, RequestOptions, SendOptions } from '../actors/messenger/messenger.js'
import { ByteBudget } from '../actors/messenger/byte-budget.js'
import type { BidRequest, BidRequestInit } from '../actors/wire/bid-request.js'
import type { NodeConfig } from './config.js'
import type { FeatureActors } from './feature-actors.js'
import type { HostAttachment } from './host-attachment.js'
import type { HostControl } from './host-control.js'
import type { NetworkKind, NodeEvent } from './events.js'
import { checkPeerId } from './peer-id.js'
import { CLOCK_TYPE, answerClock } from './clock-skew.js'

export interface MessageRouterInit {
  config: NodeConfig
  hosts: HostControl
  features: FeatureActors
  emit: (event: NodeEvent) => void
  /** Is this peer connected on the private host? (its peer actor says) */
  onPrivate: (peer: string) => boolean
  /** Observes each request's time to its reply or failure, in seconds, labelled by outcome (`ok` or the error code). */
  requestSeconds?: { observe: (labels: { outcome: string }, seconds: number) => void }
}

/**
 * The node's two messengers (one per host) behind one API: a message goes out
 * on the private host when the peer is connected there, handlers and job
 * listeners hear both, and both draw on one byte budget.
 */
export class MessageRouter {
  private readonly messengers: Record<NetworkKind, Messenger>

  constructor (private readonly init: MessageRouterInit) {
    const { config } = init
    const budget = new ByteBudget({ perPeer: config.maxBufferedBytesPerPeer, total: config.maxBufferedBytes })
    // messages handed to handlers that have not finished: four times the partial-frame budget, then the sender's streams pause
    const deliveries = new ByteBudget({ perPeer: 4 * config.maxBufferedBytesPerPeer, total: 4 * config.maxBufferedBytes })
    const messenger = (network: NetworkKind): Messenger => createMessenger({
      network,
      maxFrameBytes: config.maxFrameBytes,
      requestTimeoutMs: config.requestTimeoutMs,
      frameDeadlineMs: config.frameDeadlineMs,
      budget,
      deliveries,
      deliverToActor: (actor, event, from) => init.features.deliver(actor, event, from),
      onError: (error) => { init.emit({ type: 'messenger.error', ...error }) }
    })
    this.messengers = { public: messenger('public'), private: messenger('private') }
    for (const created of Object.values(this.messengers)) created.onJob((bid, from) => { init.emit({ type: 'job.received', from, bid }) })
    this.handle(CLOCK_TYPE, answerClock)
  }

  /** How each messenger hangs off its host. */
  attachments (): HostAttachment[] {
    return (['public', 'private'] as const).map((network) => ({
      name: `messenger (${network})`,
      networks: [network],
      attach: async (libp2p) => { await this.messengers[network].attach(libp2p) },
      detach: async () => { await this.messengers[network].detach() }
    }))
  }

  async send (peer: string, type: string, body: unknown, options: SendOptions = {}): Promise<void> {
    checkPeerId(peer)
    await this.messengerFor(peer).send(peer, type, body, options)
  }

  request<T = unknown> (peer: string, type: string, body: unknown, options: RequestOptions = {}): Promise<T> {
    try {
      checkPeerId(peer)
    } catch (err) {
      return Promise.reject(err)
    }
    const started = performance.now()
    const observe = (outcome: string): void => { this.init.requestSeconds?.observe({ outcome }, (performance.now() - started) / 1000) }
    return this.messengerFor(peer).request<T>(peer, type, body, options).then(
      (reply) => { observe('ok'); return reply },
      (err: unknown) => { observe((err as { code?: string }).code ?? 'FAILED'); throw err })
  }

  handle (type: string, handler: MessageHandler): () => void {
    const removers = Object.values(this.messengers).map((m) => m.handle(type, handler))
    return () => { for (const remove of removers) remove() }
  }

  async sendToActor (peer: string, actor: string, event: { type: string } & Record<string, unknown>, options: RequestOptions = {}): Promise<void> {
    checkPeerId(peer)
    await this.messengerFor(peer).sendToActor(peer, actor, event, options)
  }

  /** On the private host when only it runs (a member that left the public network). */
  async publishJob (bid: BidRequestInit): Promise<{ recipients: number }> {
    const { hosts } = this.init
    return await this.messengers[hosts.running('private') && !hosts.running('public') ? 'private' : 'public'].publishJob(bid)
  }

  onJob (listener: (bid: BidRequest, from: string) => void): () => void {
    const removers = Object.values(this.messengers).map((m) => m.onJob(listener))
    return () => { for (const remove of removers) remove() }
  }

  stats (): Record<NetworkKind, MessengerStats> {
    return { public: this.messengers.public.stats(), private: this.messengers.private.stats() }
  }

  /** The host a peer is reached on: the private one when the peer is connected there. */
  networkFor (peer: string): NetworkKind {
    const { hosts } = this.init
    // no private host, no choice (one map lookup): most nodes, on every message, decide here
    if (hosts.actor('private') == null) return 'public'
    if (this.init.onPrivate(peer)) return 'private'
    if (!hosts.running('public') && hosts.running('private')) return 'private'
    return 'public'
  }

  private messengerFor (peer: string): Messenger {
    return this.messengers[this.networkFor(peer)]
  }
}
