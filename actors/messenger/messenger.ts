import type { DmsLibp2p } from '../libp2p-node.js'
import type { Channel } from './channel.js'
import { ChannelPool } from './channel-pool.js'
import { JobBoard } from './job-board.js'
import { ByteBudget } from './byte-budget.js'
import { RandomIds } from './random-ids.js'
import { safeText } from './safe-text.js'
import { ErrorReports } from './error-reports.js'
import { encodeEnvelope } from '../wire/codec.js'
import { ENVELOPE_VERSION, MESSENGER_PROTOCOL } from '../wire/envelope.js'
import type { Envelope, EnvelopeKind, ErrorBody } from '../wire/envelope.js'
import type { BidRequest, BidRequestInit } from '../wire/bid-request.js'
import { ACTOR_EVENT_TYPE, MessageError, toErrorBody } from './messenger-types.js'
import { Handlers } from './handlers.js'
import type { MessageHandler, MessengerInit, MessengerStats } from './messenger-types.js'
import { PendingRequests } from './pending-requests.js'

export { ACTOR_EVENT_TYPE, MessageError }
export type { DeliveryResult, MessageHandler, MessageMeta, MessengerError, MessengerInit, MessengerStats } from './messenger-types.js'


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
  private readonly ids = new RandomIds()
  readonly maxFrameBytes: number
  private readonly requestTimeoutMs: number

  constructor (private readonly init: MessengerInit = {}) {
    this.maxFrameBytes = init.maxFrameBytes ?? 1 << 20
    this.requestTimeoutMs = init.requestTimeoutMs ?? 10_000
    this.pool = new ChannelPool({
      maxFrameBytes: this.maxFrameBytes,
      frameDeadlineMs: init.frameDeadlineMs ?? 10_000,
      budget: init.budget ?? new ByteBudget(),
      deliveries: init.deliveries ?? new ByteBudget({ perPeer: 16 << 20, total: 256 << 20 }),
      onEnvelope: (envelope, from, bytes) => { this.counters.framesIn++; this.dispatch(envelope, from, bytes) },
      onWireError: (error, from) => { this.report(error.code, error.message, from.remotePeer) },
      onClose: (closed) => { this.pending.failChannel(closed) }
    })
    this.reports = new ErrorReports(init.onError)
    this.handlers = new Handlers({ ...(init.deliverToActor != null ? { deliverToActor: init.deliverToActor } : {}), report: (code, message, peer) => { this.report(code, message, peer) } })
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
    this.jobs.detach()
    await libp2p.unhandle(MESSENGER_PROTOCOL).catch(() => {})
    this.pending.failAll(new MessageError('NOT_ATTACHED', 'the messenger was detached from its host'))
    await this.pool.closeAll()
  }

  /** Handle messages and requests of one type; the return value (or thrown error) answers a request. */
  handle (type: string, handler: MessageHandler): () => void {
    return this.handlers.handle(type, handler)
  }

  /** Send a one-way message. Resolves when the stream has taken it. */
  async send (peer: string, type: string, body: unknown): Promise<void> {
    const envelope = this.envelope('msg', type, body)
    if (peer === this.selfId) {
      this.handlers.deliver(this.local(envelope), () => {})
      return
    }
    const bytes = this.encode(envelope)
    // the open stream to this peer takes it now: no promise beyond this call's own
    if (this.sendNow(peer, bytes) != null) return
    await this.write(peer, envelope.type, bytes)
  }

  /** Send a request and wait for its reply. */
  request<T = unknown> (peer: string, type: string, body: unknown, options: { timeoutMs?: number, to?: { actor: string } } = {}): Promise<T> {
    let envelope: Envelope
    let bytes: Uint8Array
    const timeoutMs = options.timeoutMs ?? this.requestTimeoutMs
    try {
      checkTimeout(timeoutMs)
      envelope = this.envelope('req', type, body, options.to)
      if (peer === this.selfId) return this.handlers.answerLocally(this.local(envelope)) as Promise<T>
      bytes = this.encode(envelope)
    } catch (err) {
      return Promise.reject(err)
    }
    const channel = this.sendNow(peer, bytes)
    // fast path: sent on the open stream, so the reply is the only thing to wait for (no extra promise)
    if (channel != null) return this.pending.wait(envelope.id, peer, type, timeoutMs, channel) as Promise<T>
    return this.requestSlowly(peer, envelope, bytes, timeoutMs)
  }

  /** A request that must wait for its stream to open or drain first. */
  private async requestSlowly<T> (peer: string, envelope: Envelope, bytes: Uint8Array, timeoutMs: number): Promise<T> {
    const { type } = envelope
    const reply = this.pending.wait(envelope.id, peer, type, timeoutMs)
    // the timeout counts from the start: a dial that outlasts it (a slow peer-routing lookup)
    // ends the request with TIMEOUT, and neither promise may reject unobserved
    reply.catch(() => {})
    const written = this.write(peer, envelope.type, bytes).then((channel) => { this.pending.bind(envelope.id, channel) })
    written.catch(() => {})
    try {
      await Promise.race([written, reply])
    } catch (err) {
      this.pending.fail(envelope.id, err as Error)
      throw err
    }
    return await reply as T
  }

  /** Send a typed event to the actor with systemId `actor` on `peer`; rejects with the receiver's refusal. */
  async sendToActor (peer: string, actor: string, event: { type: string } & Record<string, unknown>, options: { timeoutMs?: number } = {}): Promise<void> {
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

  private envelope (kind: EnvelopeKind, type: string, body: unknown, to?: { actor: string }, re?: string): Envelope {
    // receivers take the sender from the authenticated connection, never from `from`: nothing to send.
    // One literal per shape (no spreads): a message's envelope is built on every send and reply.
    const envelope: Envelope = { v: ENVELOPE_VERSION, id: this.ids.next(), kind, type, from: '', ts: Date.now(), body }
    if (re != null) envelope.re = re
    if (to != null) envelope.to = to
    return envelope
  }

  /** An envelope this node addresses to itself: from itself. */
  private local (envelope: Envelope): Envelope {
    envelope.from = this.selfId ?? ''
    return envelope
  }

  private encode (envelope: Envelope): Uint8Array {
    let bytes: Uint8Array
    try {
      bytes = encodeEnvelope(envelope)
    } catch (err) {
      throw new MessageError('SEND_FAILED', `cannot encode ${envelope.type}: ${(err as Error).message}`)
    }
    if (bytes.byteLength > this.maxFrameBytes) {
      throw new MessageError('OVERSIZED', `${envelope.type} is ${bytes.byteLength} bytes; the limit is ${this.maxFrameBytes}`)
    }
    return bytes
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
    const channel = open != null && !open.isClosed ? open : await this.pool.channelTo(libp2p, peer)
    try {
      await channel.write(bytes)
    } catch (err) {
      throw new MessageError('SEND_FAILED', `could not send ${type} to ${peer}: ${(err as Error).message}`)
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
          // a type nobody handles: the sender is told, and its stream closed
          this.reply(channel, envelope, 'err', { code: 'UNKNOWN_TYPE', message: `no handler for message type ${envelope.type}` })
          void channel.close()
        } else if (!delivery.done) {
          delivery.held = true
          channel.hold(bytes)
        }
      }
    }
  }

  /** Answer on the stream the request came in on (now, unless it waits for drain). */
  private reply (channel: Channel, request: Envelope, kind: 'res' | 'err', body: unknown): void {
    if (channel.isClosed) return
    let bytes: Uint8Array
    try {
      bytes = this.encode(this.envelope(kind, request.type, body, undefined, request.id))
    } catch (err) {
      bytes = this.encode(this.envelope('err', request.type, toErrorBody(err), undefined, request.id))
    }
    if (channel.trySend(bytes)) { this.counters.framesOut++; return }
    channel.write(bytes).then(() => { this.counters.framesOut++ }, () => {})
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

/** Node's timers take at most 2^31-1 ms; a longer (or non-numeric) timeout would fire at once. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1

function checkTimeout (timeoutMs: unknown): void {
  if (typeof timeoutMs !== 'number' || !(timeoutMs >= 1 && timeoutMs <= MAX_TIMEOUT_MS)) {
    throw new MessageError('INVALID', `timeoutMs must be a number of milliseconds from 1 to ${MAX_TIMEOUT_MS}, not ${String(timeoutMs)}`)
  }
}

export function createMessenger (init?: MessengerInit): Messenger {
  return new Messenger(init)
}
