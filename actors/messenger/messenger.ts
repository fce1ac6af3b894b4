import { DmsError } from '../errors.js'
import type { DmsErrorCode } from '../errors.js'
import type { Connection, Stream } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import type { DmsLibp2p } from '../libp2p-node.js'
import { Channel } from './channel.js'
import { JobBoard } from './job-board.js'
import { ByteBudget } from './byte-budget.js'
import { RandomIds } from './random-ids.js'
import { safeText } from './safe-text.js'
import { RateLimiter } from '../rate-limit.js'
import { encodeEnvelope } from '../wire/codec.js'
import { ENVELOPE_VERSION, MESSENGER_PROTOCOL, WireError } from '../wire/envelope.js'
import type { Envelope, EnvelopeKind, ErrorBody } from '../wire/envelope.js'
import type { BidRequest, BidRequestInit } from '../wire/bid-request.js'
import { log } from '../log.js'

export interface MessengerInit {
  /** Hard maximum encoded frame size, both directions. @default 1048576 */
  maxFrameBytes?: number
  /** Default request timeout. @default 10000 */
  requestTimeoutMs?: number
  /** A frame must arrive whole within this long of its first byte, or its stream is reset. @default 10000 */
  frameDeadlineMs?: number
  /** Partly received frame bytes per peer and in all; a node shares one between its hosts' messengers. @default new ByteBudget() (4 MiB per peer, 64 MiB in all) */
  budget?: ByteBudget
  /** Bytes of delivered messages whose handlers are still running, per peer and in all; over it, the sender's streams pause. @default new ByteBudget({ perPeer: 16 MiB, total: 256 MiB }) */
  deliveries?: ByteBudget
  /** Inbound messenger streams per connection. @default 16 */
  maxInboundStreams?: number
  /** Deliver an actor event from a remote peer to the local actor `actor`, if it accepts that type. */
  deliverToActor?: (actor: string, event: { type: string } & Record<string, unknown>, from: string) => DeliveryResult
  /** Every bad input or failure; the node keeps running. */
  onError?: (error: MessengerError) => void
}

export interface MessengerError {
  code: string
  message: string
  peer?: string
}

/** Metadata handed to a message handler. `from` is the authenticated sender. */
/** What `deliverToActor` answers: delivered, or refused with a reason sent back to the peer. */
export type DeliveryResult = { ok: true } | { ok: false, reason: string }

export interface MessageMeta {
  from: string
  id: string
  type: string
  /** 'req' when the sender waits for the handler's return value, 'msg' for a one-way message. */
  kind: 'msg' | 'req'
}

export type MessageHandler = (body: unknown, meta: MessageMeta) => unknown

export interface MessengerStats {
  framesIn: number
  framesOut: number
  bytesIn: number
  bytesOut: number
  openChannels: number
  pendingRequests: number
  errors: Record<string, number>
}

/** A failed send or request; `code` is REMOTE_ERROR (the receiver said so), TIMEOUT, OVERSIZED, NOT_ATTACHED or SEND_FAILED. */
export class MessageError extends DmsError {
  constructor (code: DmsErrorCode, message: string) {
    super(code, message)
    this.name = 'MessageError'
  }
}

/** Message type of actor events addressed with `to.actor`. */
export const ACTOR_EVENT_TYPE = 'actor.event'

interface Pending {
  resolve: (body: unknown) => void
  reject: (err: Error) => void
  timer: NodeJS.Timeout
  /** Only this peer may answer, and only on the channel the request went out on. */
  peer: string
  channel?: Channel
}

/** Unsolicited remote errors and invalid bid requests reported per peer at most this often; the rest are only counted. */
const REMOTE_ERROR_REPORTS = { perSecond: 1, burst: 1 }

/**
 * Typed messages between peers on `/dms/msg/1.0.0`: one long-lived stream per
 * peer (opened on first use), length-prefixed msgpackr envelopes both ways,
 * requests answered on the stream they came in on, messages to self delivered
 * without the network, and job bid requests over gossipsub.
 */
export class Messenger {
  private libp2p?: DmsLibp2p
  private selfId?: string
  private readonly outbound = new Map<string, Promise<Channel>>()
  /** The open outbound channel per peer, once opened: a message to it takes no await before its write. */
  private readonly ready = new Map<string, Channel>()
  private readonly channels = new Set<Channel>()
  private readonly handlers = new Map<string, MessageHandler>()
  private readonly pending = new Map<string, Pending>()
  // a flood of invalid bid requests is counted in full but reported at most once a second per peer
  private readonly jobs = new JobBoard((error) => { this.reportThrottled(error.code, error.message, error.peer) })
  private readonly counters = { framesIn: 0, framesOut: 0, closedBytesIn: 0, closedBytesOut: 0 }
  private readonly errors: Record<string, number> = {}
  private readonly ids = new RandomIds()
  private readonly throttledReports = new RateLimiter(REMOTE_ERROR_REPORTS)
  readonly maxFrameBytes: number
  private readonly requestTimeoutMs: number
  private readonly frameDeadlineMs: number
  private readonly budget: ByteBudget
  private readonly deliveries: ByteBudget

  constructor (private readonly init: MessengerInit = {}) {
    this.maxFrameBytes = init.maxFrameBytes ?? 1 << 20
    this.requestTimeoutMs = init.requestTimeoutMs ?? 10_000
    this.frameDeadlineMs = init.frameDeadlineMs ?? 10_000
    this.budget = init.budget ?? new ByteBudget()
    this.deliveries = init.deliveries ?? new ByteBudget({ perPeer: 16 << 20, total: 256 << 20 })
  }

  /** Register the protocol and the job topic on a running libp2p node (again after each host restart). */
  async attach (libp2p: DmsLibp2p): Promise<void> {
    if (this.libp2p != null) await this.detach()
    this.libp2p = libp2p
    this.selfId = libp2p.peerId.toString()
    await libp2p.handle(MESSENGER_PROTOCOL, (stream, connection) => { this.accept(stream, connection) }, {
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
    for (const [id, pending] of this.pending) {
      clearTimeout(pending.timer)
      pending.reject(new MessageError('NOT_ATTACHED', 'the messenger was detached from its host'))
      this.pending.delete(id)
    }
    await Promise.allSettled([...this.channels].map(async (channel) => { await channel.close() }))
    this.outbound.clear()
    this.ready.clear()
  }

  /** Handle messages and requests of one type; the return value (or thrown error) answers a request. */
  handle (type: string, handler: MessageHandler): () => void {
    if (this.handlers.has(type)) throw new Error(`a handler for ${type} is already registered`)
    this.handlers.set(type, handler)
    return () => { if (this.handlers.get(type) === handler) this.handlers.delete(type) }
  }

  /** Send a one-way message. Resolves when the stream has taken it. */
  async send (peer: string, type: string, body: unknown): Promise<void> {
    const envelope = this.envelope('msg', type, body)
    if (peer === this.selfId) {
      this.deliverLocally(envelope)
      return
    }
    await this.write(peer, envelope)
  }

  /** Send a request and wait for its reply. */
  async request<T = unknown> (peer: string, type: string, body: unknown, options: { timeoutMs?: number, to?: { actor: string } } = {}): Promise<T> {
    const envelope = this.envelope('req', type, body, options.to)
    if (peer === this.selfId) return await this.answerLocally(envelope) as T
    const timeoutMs = options.timeoutMs ?? this.requestTimeoutMs
    const reply = new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(envelope.id)
        reject(new MessageError('TIMEOUT', `no reply to ${type} from ${peer} within ${timeoutMs} ms`))
      }, timeoutMs)
      this.pending.set(envelope.id, { resolve, reject, timer, peer })
    })
    // the timeout counts from the start: a dial that outlasts it (a slow peer-routing lookup)
    // ends the request with TIMEOUT, and neither promise may reject unobserved
    reply.catch(() => {})
    const written = this.write(peer, envelope).then((channel) => {
      const pending = this.pending.get(envelope.id)
      if (pending != null) pending.channel = channel
    })
    written.catch(() => {})
    try {
      await Promise.race([written, reply])
    } catch (err) {
      const pending = this.pending.get(envelope.id)
      if (pending != null) { clearTimeout(pending.timer); this.pending.delete(envelope.id) }
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
    let bytesIn = this.counters.closedBytesIn
    let bytesOut = this.counters.closedBytesOut
    for (const channel of this.channels) { bytesIn += channel.bytesIn; bytesOut += channel.bytesOut }
    return {
      framesIn: this.counters.framesIn,
      framesOut: this.counters.framesOut,
      bytesIn,
      bytesOut,
      openChannels: this.channels.size,
      pendingRequests: this.pending.size,
      errors: { ...this.errors }
    }
  }

  private envelope (kind: EnvelopeKind, type: string, body: unknown, to?: { actor: string }, re?: string): Envelope {
    return {
      v: ENVELOPE_VERSION,
      id: this.ids.next(),
      kind,
      type,
      from: this.selfId ?? '',
      ts: Date.now(),
      body,
      ...(re != null ? { re } : {}),
      ...(to != null ? { to } : {})
    }
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

  private async write (peer: string, envelope: Envelope): Promise<Channel> {
    const bytes = this.encode(envelope)
    if (this.libp2p == null) throw new MessageError('NOT_ATTACHED', 'the node is not running')
    const open = this.ready.get(peer)
    const channel = open != null && !open.isClosed ? open : await this.channelTo(peer)
    try {
      await channel.write(bytes)
    } catch (err) {
      throw new MessageError('SEND_FAILED', `could not send ${envelope.type} to ${peer}: ${(err as Error).message}`)
    }
    this.counters.framesOut++
    return channel
  }

  private async channelTo (peer: string): Promise<Channel> {
    const existing = this.outbound.get(peer)
    if (existing != null) {
      const channel = await existing.catch(() => undefined)
      if (channel != null && !channel.isClosed) return channel
      if (this.outbound.get(peer) === existing) this.outbound.delete(peer)
    }
    const opening = this.open(peer)
    this.outbound.set(peer, opening)
    opening.then((channel) => { if (this.outbound.get(peer) === opening && !channel.isClosed) this.ready.set(peer, channel) }, () => { if (this.outbound.get(peer) === opening) this.outbound.delete(peer) })
    return await opening
  }

  private async open (peer: string): Promise<Channel> {
    const libp2p = this.libp2p
    if (libp2p == null) throw new MessageError('NOT_ATTACHED', 'the node is not running')
    let target
    try {
      target = peerIdFromString(peer)
    } catch {
      throw new MessageError('SEND_FAILED', `not a peer id: ${JSON.stringify(peer)}`)
    }
    try {
      const stream = await libp2p.dialProtocol(target, MESSENGER_PROTOCOL, { runOnLimitedConnection: true })
      return this.track(stream, peer)
    } catch (err) {
      throw new MessageError('SEND_FAILED', `cannot open a messenger stream to ${peer}: ${(err as Error).message}`)
    }
  }

  private accept (stream: Stream, connection: Connection): void {
    this.track(stream, connection.remotePeer.toString())
  }

  private track (stream: Stream, remotePeer: string): Channel {
    const channel = new Channel({
      stream,
      remotePeer,
      maxFrameBytes: this.maxFrameBytes,
      frameDeadlineMs: this.frameDeadlineMs,
      budget: this.budget,
      deliveries: this.deliveries,
      onEnvelope: (envelope, from, bytes) => { this.counters.framesIn++; this.dispatch(envelope, from, bytes) },
      onWireError: (error, from) => { this.report(error.code, error.message, from.remotePeer) },
      onClose: (closed) => {
        this.channels.delete(closed)
        if (this.ready.get(closed.remotePeer) === closed) this.ready.delete(closed.remotePeer)
        this.counters.closedBytesIn += closed.bytesIn
        this.counters.closedBytesOut += closed.bytesOut
        for (const [id, pending] of this.pending) {
          if (pending.channel !== closed) continue
          clearTimeout(pending.timer)
          this.pending.delete(id)
          pending.reject(new MessageError('SEND_FAILED', `the stream to ${closed.remotePeer} closed before the reply`))
        }
      }
    })
    this.channels.add(channel)
    return channel
  }

  private dispatch (envelope: Envelope, channel: Channel, bytes: number): void {
    switch (envelope.kind) {
      case 'res':
      case 'err':
        this.settle(envelope, channel)
        return
      case 'req':
        channel.hold(bytes)
        void this.answer(envelope).then(
          (body) => this.reply(channel, envelope, 'res', body),
          (err: unknown) => this.reply(channel, envelope, 'err', toErrorBody(err))
        ).finally(() => { channel.settled(bytes) })
        return
      case 'msg':
        this.receiveMessage(envelope, channel, bytes)
    }
  }

  private receiveMessage (envelope: Envelope, channel: Channel, bytes: number): void {
    const handler = this.handlers.get(envelope.type)
    if (handler == null) {
      this.report('UNKNOWN_TYPE', `no handler for message type ${envelope.type}`, envelope.from)
      void this.reply(channel, envelope, 'err', { code: 'UNKNOWN_TYPE', message: `no handler for message type ${envelope.type}` })
        .finally(() => { void channel.close() })
      return
    }
    channel.hold(bytes)
    void Promise.resolve()
      .then(() => handler(envelope.body, { from: envelope.from, id: envelope.id, type: envelope.type, kind: 'msg' }))
      .catch((err: unknown) => { this.report('HANDLER_FAILED', `handler for ${envelope.type} failed: ${(err as Error)?.message ?? err}`, envelope.from) })
      .finally(() => { channel.settled(bytes) })
  }

  /** Work out the reply body to a request, or throw the error to send back. */
  private async answer (envelope: Envelope): Promise<unknown> {
    if (envelope.to != null) {
      if (envelope.type !== ACTOR_EVENT_TYPE) throw new RemoteRefusal('INVALID', `to.actor needs type ${ACTOR_EVENT_TYPE}`)
      const event = envelope.body as { type?: unknown } | null
      if (event == null || typeof event !== 'object' || typeof event.type !== 'string') throw new RemoteRefusal('INVALID', 'an actor event needs a string type')
      const delivered = this.init.deliverToActor?.(envelope.to.actor, event as { type: string }, envelope.from) ??
        { ok: false as const, reason: 'this node accepts no actor events' }
      if (!delivered.ok) {
        this.report('ACTOR_REFUSED', delivered.reason, envelope.from)
        throw new RemoteRefusal('ACTOR_REFUSED', delivered.reason)
      }
      return null
    }
    const handler = this.handlers.get(envelope.type)
    if (handler == null) {
      this.report('UNKNOWN_TYPE', `no handler for request type ${envelope.type}`, envelope.from)
      throw new RemoteRefusal('UNKNOWN_TYPE', `no handler for request type ${envelope.type}`)
    }
    return await handler(envelope.body, { from: envelope.from, id: envelope.id, type: envelope.type, kind: 'req' })
  }

  private async reply (channel: Channel, request: Envelope, kind: 'res' | 'err', body: unknown): Promise<void> {
    if (channel.isClosed) return
    let bytes: Uint8Array
    try {
      bytes = this.encode(this.envelope(kind, request.type, body, undefined, request.id))
    } catch (err) {
      bytes = this.encode(this.envelope('err', request.type, toErrorBody(err), undefined, request.id))
    }
    await channel.write(bytes).then(() => { this.counters.framesOut++ }, () => {})
  }

  private settle (envelope: Envelope, channel: Channel): void {
    const pending = this.pending.get(envelope.re!)
    if (pending != null && (pending.peer !== channel.remotePeer || (pending.channel != null && pending.channel !== channel))) {
      // another peer (or another stream) answering our request: a forgery, never a reply
      this.report('FORGED_REPLY', `${channel.remotePeer} answered a request sent to ${pending.peer}; ignored`, channel.remotePeer)
      return
    }
    if (pending == null) {
      if (envelope.kind === 'err') this.reportRemoteError(envelope, channel.remotePeer)
      return
    }
    clearTimeout(pending.timer)
    this.pending.delete(envelope.re!)
    if (envelope.kind === 'res') pending.resolve(envelope.body)
    else {
      const body = envelope.body as ErrorBody
      pending.reject(new MessageError('REMOTE_ERROR', `${safeText(body.code, 40)}: ${safeText(body.message)}`))
    }
  }

  /** An error no request of ours waits for: shown escaped and cut, at most once a second per peer, always counted. */
  private reportRemoteError (envelope: Envelope, peer: string): void {
    const body = envelope.body as ErrorBody
    this.reportThrottled('REMOTE_ERROR', `${peer} refused ${envelope.type}: ${safeText(body.message)}`, peer)
  }

  /** Report at most once a second per peer and code; always count. */
  private reportThrottled (code: string, message: string, peer?: string): void {
    if (this.throttledReports.take(`${code} ${peer ?? ''}`)) this.report(code, message, peer)
    else this.errors[code] = (this.errors[code] ?? 0) + 1
  }

  private deliverLocally (envelope: Envelope): void {
    const handler = this.handlers.get(envelope.type)
    if (handler == null) {
      this.report('UNKNOWN_TYPE', `no handler for message type ${envelope.type}`, envelope.from)
      return
    }
    void Promise.resolve()
      .then(() => handler(envelope.body, { from: envelope.from, id: envelope.id, type: envelope.type, kind: 'msg' }))
      .catch((err: unknown) => { this.report('HANDLER_FAILED', `handler for ${envelope.type} failed: ${(err as Error)?.message ?? err}`, envelope.from) })
  }

  private async answerLocally (envelope: Envelope): Promise<unknown> {
    try {
      return await this.answer(envelope)
    } catch (err) {
      const body = toErrorBody(err)
      throw new MessageError('REMOTE_ERROR', `${body.code}: ${body.message}`)
    }
  }

  private report (code: string, message: string, peer?: string): void {
    log.messenger.error('%s %s', code, message)
    this.errors[code] = (this.errors[code] ?? 0) + 1
    try {
      this.init.onError?.({ code, message, ...(peer != null ? { peer } : {}) })
    } catch {
      // a broken error listener must not break message handling
    }
  }
}

/** A refusal sent back to the requester with its code. */
class RemoteRefusal extends Error {
  constructor (readonly code: string, message: string) {
    super(message)
  }
}

/** A handler's error as the requester sees it: its own code when it has a plain one (`NO_REPLY`, `BUSY`), else HANDLER_FAILED. */
function toErrorBody (err: unknown): ErrorBody {
  if (err instanceof RemoteRefusal || err instanceof MessageError || err instanceof WireError) return { code: err.code, message: err.message }
  const code = (err as { code?: unknown } | null)?.code
  return { code: typeof code === 'string' && /^[A-Z][A-Z0-9_]{0,39}$/.test(code) ? code : 'HANDLER_FAILED', message: err instanceof Error ? err.message : String(err) }
}

export function createMessenger (init?: MessengerInit): Messenger {
  return new Messenger(init)
}
