import type { DmsLibp2p } from '../libp2p-node.js'
import type { Channel } from './channel.js'
import { ChannelPool } from './channel-pool.js'
import { JobBoard } from './job-board.js'
import { ByteBudget } from './byte-budget.js'
import { Envelopes } from './envelopes.js'
import { safeText } from './safe-text.js'
import { ErrorReports } from './error-reports.js'
import { envelopeHeadOf } from '../wire/codec.js'
import { MESSENGER_PROTOCOL } from '../wire/envelope.js'
import type { Envelope, ErrorBody, WireError } from '../wire/envelope.js'
import type { BidRequest, BidRequestInit } from '../wire/bid-request.js'
import { ACTOR_EVENT_TYPE, MessageError, checkMessageType, toErrorBody } from './messenger-types.js'
import { Handlers } from './handlers.js'
import type { MessageHandler, MessengerInit, MessengerStats, RequestOptions, SendOptions } from './messenger-types.js'
import { PendingRequests } from './pending-requests.js'
import { abortError, abortable, checkTimeout, throwIfAborted } from './call-options.js'
import { log, traced } from '../log.js'

export { ACTOR_EVENT_TYPE, MessageError }
export type { DeliveryResult, MessageHandler, MessageMeta, MessengerError, MessengerInit, MessengerStats, RequestOptions, SendOptions } from './messenger-types.js'


/**
 * Typed messages between peers on `/dms/msg/1.0.0`: one long-lived stream per
 * peer (opened on first use), length-prefixed msgpackr envelopes both ways,
 * requests answered on the stream they came in on, messages to self delivered
 * without the network, and job bid requests over gossipsub.
 */
export class Messenger {
  private libp2p?: DmsLibp2p
  private selfId?: string
  private readonly pool: ChannelPool
  private readonly handlers: Handlers
  private readonly pending = new PendingRequests()
  // a flood of invalid bid requests is counted in full but reported at most once a second per peer
  private readonly jobs = new JobBoard((error) => { this.reports.reportThrottled(error.code, error.message, error.peer) })
  private readonly counters = { framesIn: 0, framesOut: 0 }
  private readonly reports: ErrorReports
  private readonly envelopes: Envelopes
  readonly maxFrameBytes: number
  private readonly requestTimeoutMs: number

  constructor (private readonly init: MessengerInit = {}) {
    this.maxFrameBytes = init.maxFrameBytes ?? 1 << 20
    this.envelopes = new Envelopes(this.maxFrameBytes)
    this.requestTimeoutMs = init.requestTimeoutMs ?? 10_000
    this.pool = new ChannelPool({
      maxFrameBytes: this.maxFrameBytes,
      frameDeadlineMs: init.frameDeadlineMs ?? 10_000,
      budget: init.budget ?? new ByteBudget(),
      deliveries: init.deliveries ?? new ByteBudget({ perPeer: 16 << 20, total: 256 << 20 }),
      onEnvelope: (envelope, from, bytes) => { this.counters.framesIn++; this.dispatch(envelope, from, bytes) },
      onWireError: (error, from) => { this.report(error.code, error.message, from.remotePeer) },
      onBadEnvelope: (error, frame, from) => { this.refuseEnvelope(error, frame, from) },
      onClose: (closed) => { this.pending.failChannel(closed) }
    })
    this.reports = new ErrorReports(init.onError)
    this.handlers = new Handlers({
      ...(init.deliverToActor != null ? { deliverToActor: init.deliverToActor } : {}),
      report: (code, message, peer) => { this.reports.reportRefusal(code, message, peer) },
      network: init.network ?? 'public'
    })
  }

  /** Register the protocol and the job topic on a running libp2p node (again after each host restart). */
  async attach (libp2p: DmsLibp2p): Promise<void> {
    if (this.libp2p != null) await this.detach()
    this.libp2p = libp2p
    this.selfId = libp2p.peerId.toString()
    await libp2p.handle(MESSENGER_PROTOCOL, (stream, connection) => { this.pool.accept(stream, connection.remotePeer.toString()) }, {
      maxInboundStreams: this.init.maxInboundStreams ?? 16,
      // typed messages are small: they may ride a relayed connection, within the relay's limits
      runOnLimitedConnection: true
    })
    this.jobs.attach(libp2p)
  }

  /** Unregister, close every stream, and fail pending requests with a clear error. */
  async detach (): Promise<void> {
    const libp2p = this.libp2p
    if (libp2p == null) return
    this.libp2p = undefined
    this.selfId = undefined // a stopped node delivers nothing, to itself neither
    this.jobs.detach()
    await libp2p.unhandle(MESSENGER_PROTOCOL).catch(traced(log.messenger, 'unhandle the messenger protocol'))
    this.pending.failAll(new MessageError('NOT_ATTACHED', 'the messenger was detached from its host'))
    await this.pool.closeAll()
  }

  /** Handle messages and requests of one type; the return value (or thrown error) answers a request. */
  handle (type: string, handler: MessageHandler): () => void {
    return this.handlers.handle(type, handler)
  }

  /**
   * Send a one-way message. Resolves when the stream has taken it; the receiver's
   * refusal (an unknown type) comes back as a `messenger.error` REMOTE_ERROR, not here.
   */
  async send (peer: string, type: string, body: unknown, options: SendOptions = {}): Promise<void> {
    checkMessageType(type)
    throwIfAborted(options.signal)
    const envelope = this.envelopes.create('msg', type, body)
    const bytes = this.envelopes.encode(envelope)
    if (peer === this.selfId) {
      this.handlers.deliver(this.envelopes.arrived(bytes, this.selfId), () => {})
      return
    }
    // the open stream to this peer takes it now: no promise beyond this call's own
    if (this.sendNow(peer, bytes) != null) return
    await abortable(this.write(peer, envelope.type, bytes), options.signal)
  }

  /** Send a request and wait for its reply. */
  request<T = unknown> (peer: string, type: string, body: unknown, options: RequestOptions & { to?: { actor: string } } = {}): Promise<T> {
    let envelope: Envelope
    let bytes: Uint8Array
    const timeoutMs = options.timeoutMs ?? this.requestTimeoutMs
    try {
      checkMessageType(type)
      if (options.to != null) checkMessageType(options.to.actor, 'actor systemId')
      checkTimeout(timeoutMs)
      throwIfAborted(options.signal)
      envelope = this.envelopes.create('req', type, body, options.to)
      bytes = this.envelopes.encode(envelope)
      if (peer === this.selfId) return abortable(this.handlers.answerLocally(this.envelopes.arrived(bytes, this.selfId), (value) => this.envelopes.replyBody(envelope, value)), options.signal) as Promise<T>
    } catch (err) {
      return Promise.reject(err)
    }
    const signal = options.signal
    const channel = this.sendNow(peer, bytes)
    // fast path: sent on the open stream, so the reply is the only thing to wait for (no extra promise)
    if (channel != null) {
      const reply = this.pending.wait(envelope.id, peer, type, timeoutMs, channel) as Promise<T>
      if (signal != null) this.abandonOnAbort(envelope.id, signal)
      return reply
    }
    return this.requestSlowly(peer, envelope, bytes, timeoutMs, signal)
  }

  /** A request that must wait for its stream to open or drain first. */
  private async requestSlowly<T> (peer: string, envelope: Envelope, bytes: Uint8Array, timeoutMs: number, signal?: AbortSignal): Promise<T> {
    const { type } = envelope
    const reply = this.pending.wait(envelope.id, peer, type, timeoutMs)
    if (signal != null) this.abandonOnAbort(envelope.id, signal)
    // the timeout counts from the start: a dial that outlasts it (a slow peer-routing lookup)
    // ends the request with TIMEOUT, and neither promise may reject unobserved
    reply.catch(() => {}) // observed by the race below
    const written = this.write(peer, envelope.type, bytes).then((channel) => { this.pending.bind(envelope.id, channel) })
    written.catch(() => {}) // observed by the race below
    try {
      await Promise.race([written, reply])
    } catch (err) {
      this.pending.fail(envelope.id, err as Error)
      throw err
    }
    return await reply as T
  }

  /** An aborted request stops waiting at once; its reply, if one comes, is dropped. */
  private abandonOnAbort (id: string, signal: AbortSignal): void {
    const abort = (): void => { this.pending.fail(id, abortError(signal)) }
    signal.addEventListener('abort', abort, { once: true })
    this.pending.onSettled(id, () => { signal.removeEventListener('abort', abort) })
  }

  /** Send a typed event to the actor with systemId `actor` on `peer`; rejects with the receiver's refusal. */
  async sendToActor (peer: string, actor: string, event: { type: string } & Record<string, unknown>, options: RequestOptions = {}): Promise<void> {
    await this.request(peer, ACTOR_EVENT_TYPE, event, { ...options, to: { actor } })
  }

  async publishJob (bid: BidRequestInit): Promise<{ recipients: number }> {
    if (this.libp2p == null) throw new MessageError('NOT_ATTACHED', 'the node is not running')
    return await this.jobs.publish(bid)
  }

  onJob (listener: (bid: BidRequest, from: string) => void): () => void {
    return this.jobs.onJob(listener)
  }

  stats (): MessengerStats {
    const { open, bytesIn, bytesOut } = this.pool.totals()
    return {
      framesIn: this.counters.framesIn,
      framesOut: this.counters.framesOut,
      bytesIn,
      bytesOut,
      openChannels: open,
      pendingRequests: this.pending.size,
      errors: this.reports.counted()
    }
  }

  /** Send on the open stream to `peer` if it takes the frame now; undefined when the caller must `write()`. */
  private sendNow (peer: string, bytes: Uint8Array): Channel | undefined {
    const open = this.pool.readyTo(peer)
    if (open == null || this.libp2p == null || !open.trySend(bytes)) return undefined
    this.counters.framesOut++
    return open
  }

  private async write (peer: string, type: string, bytes: Uint8Array): Promise<Channel> {
    const libp2p = this.libp2p
    if (libp2p == null) throw new MessageError('NOT_ATTACHED', 'the node is not running')
    const open = this.pool.readyTo(peer)
    let channel = open != null && !open.isClosed ? open : await this.pool.channelTo(libp2p, peer)
    // a stream that closed while the frame waited for drain never took it: it goes on a new one, once
    for (let attempt = 0; ; attempt++) {
      try {
        await channel.write(bytes)
        break
      } catch (err) {
        if (attempt > 0 || !channel.isClosed) throw new MessageError('SEND_FAILED', `could not send ${type} to ${peer}: ${(err as Error).message}`)
        channel = await this.pool.channelTo(libp2p, peer)
      }
    }
    this.counters.framesOut++
    return channel
  }

  private dispatch (envelope: Envelope, channel: Channel, bytes: number): void {
    switch (envelope.kind) {
      case 'res':
      case 'err':
        this.settle(envelope, channel)
        return
      case 'req': {
        // a handler that answers at once holds nothing; one still running counts against the budgets
        const delivery = { done: false, held: false }
        this.handlers.answer(envelope, (outcome) => {
          delivery.done = true
          this.reply(channel, envelope, outcome.ok ? 'res' : 'err', outcome.ok ? outcome.value : toErrorBody(outcome.error))
          if (delivery.held) channel.settled(bytes)
        })
        if (!delivery.done) { delivery.held = true; channel.hold(bytes) }
        return
      }
      case 'msg': {
        const delivery = { done: false, held: false }
        const handled = this.handlers.deliver(envelope, () => {
          delivery.done = true
          if (delivery.held) channel.settled(bytes)
        })
        if (!handled) {
          // a type nobody handles (a peer running another version): the sender is told, and the stream goes on
          this.reply(channel, envelope, 'err', { code: 'UNKNOWN_TYPE', message: `no handler for message type ${envelope.type}` })
        } else if (!delivery.done) {
          delivery.held = true
          channel.hold(bytes)
        }
      }
    }
  }

  /** Answer on the stream the request came in on (now, unless it waits for drain). */
  private reply (channel: Channel, request: Pick<Envelope, 'id' | 'type'>, kind: 'res' | 'err', body: unknown): void {
    if (channel.isClosed) return
    let bytes: Uint8Array
    try {
      bytes = this.envelopes.encode(this.envelopes.create(kind, request.type, body, undefined, request.id))
    } catch (err) {
      bytes = this.envelopes.encode(this.envelopes.create('err', request.type, toErrorBody(err), undefined, request.id))
    }
    if (channel.trySend(bytes)) { this.counters.framesOut++; return }
    channel.write(bytes).then(() => { this.counters.framesOut++ }, () => {})
  }

  /** A frame with no valid envelope: counted and reported; a request or message whose id can be read is answered. */
  private refuseEnvelope (error: WireError, frame: Uint8Array, channel: Channel): void {
    // the reason may quote the peer's own text (a 1 MiB "type"): cut and escaped before any log or reply
    const reason = safeText(error.message)
    this.reports.reportRefusal(error.code, `${channel.remotePeer} sent an envelope that was refused: ${reason}`, channel.remotePeer)
    const head = envelopeHeadOf(frame)
    if (head == null || (head.kind !== 'req' && head.kind !== 'msg')) return
    this.reply(channel, { id: head.id, type: 'invalid' }, 'err', { code: error.code, message: reason })
  }

  private settle (envelope: Envelope, channel: Channel): void {
    const outcome = this.pending.settle(envelope, channel)
    // a forged reply leaves the request waiting for the real one
    if (outcome === 'forged') this.report('FORGED_REPLY', `${channel.remotePeer} answered a request sent to ${this.pending.peerOf(envelope.re!) ?? '?'}; ignored`, channel.remotePeer)
    else if (outcome === 'unknown' && envelope.kind === 'err') this.reportRemoteError(envelope, channel.remotePeer)
  }

  /** An error no request of ours waits for: shown escaped and cut, at most once a second per peer, always counted. */
  private reportRemoteError (envelope: Envelope, peer: string): void {
    const body = envelope.body as ErrorBody
    this.reports.reportThrottled('REMOTE_ERROR', `${peer} refused ${envelope.type}: ${safeText(body.message)}`, peer)
  }

  private report (code: string, message: string, peer?: string): void {
    this.reports.report(code, message, peer)
  }
}

export function createMessenger (init?: MessengerInit): Messenger {
  return new Messenger(init)
}
