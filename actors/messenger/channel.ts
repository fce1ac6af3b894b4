import type { Stream } from '@libp2p/interface'
import { FrameDecoder, encodeFrame } from '../wire/frames.js'
import { decodeEnvelope } from '../wire/codec.js'
import { WireError } from '../wire/envelope.js'
import type { Envelope } from '../wire/envelope.js'
import type { ByteBudget } from './byte-budget.js'
import { DmsError } from '../errors.js'
import { FrameWriter } from './frame-writer.js'
import { log, traced } from '../log.js'

export interface ChannelInit {
  stream: Stream
  /** Authenticated peer id of the remote end (from the connection, never from frames). */
  remotePeer: string
  maxFrameBytes: number
  /** A frame must be whole within this long of its first byte; progress does not extend it. */
  frameDeadlineMs: number
  /** Shared by every stream of the node: partial-frame bytes per peer and in all. */
  budget: ByteBudget
  /** Shared by every stream of the node: bytes of delivered envelopes whose handlers have not finished. Over it, streams pause. */
  deliveries: ByteBudget
  /** `bytes`: the frame's size, what a held delivery of it counts against the deliveries budget. */
  onEnvelope: (envelope: Envelope, channel: Channel, bytes: number) => void
  /** A whole frame that holds no valid envelope, or the head of one skipped as oversized: reported, answered if it can be, and the stream goes on. */
  onBadEnvelope: (error: WireError, frame: Uint8Array, channel: Channel) => void
  /** A bad frame or a stall: the channel is closed right after. */
  onWireError: (error: WireError, channel: Channel) => void
  onClose: (channel: Channel) => void
}

/**
 * Deliveries still being handled before the stream is paused (a slow receiver
 * slows only its own stream). Their bytes are bounded too, per peer and per node,
 * by the `deliveries` budget: over it, the stream pauses until handlers finish.
 */
const MAX_IN_FLIGHT = 64

/** The largest frame skipped rather than fatal: the largest maxFrameBytes a node may have (64 MiB). Over it, the stream is reset. */
const MAX_SKIPPED_FRAME_BYTES = 64 << 20

/** What a paused stream may buffer: yamux's largest stream window (16 MiB) and one frame more. */
const PAUSED_READ_BUFFER_BYTES = (16 << 20) + (1 << 20)

/**
 * Length-prefixed envelopes over one libp2p stream, both directions.
 * Writes wait for the stream's own 'drain' event: `onDrain()` in
 * @libp2p/utils 7.4.1 resolves at once after the first drain, which lets a
 * fast sender grow memory without bound.
 */
export class Channel {
  readonly remotePeer: string
  private readonly stream: Stream
  private readonly decoder: FrameDecoder
  private readonly writer: FrameWriter
  private deadline?: NodeJS.Timeout
  /** Bytes this channel holds in the shared budget. */
  private charged = 0
  private inFlight = 0
  /** Bytes of the deliveries in flight, charged to the deliveries budget. */
  private inFlightBytes = 0
  private paused = false
  /** Whole frames received while paused (the rest of the chunk that paused the stream), delivered on resume. */
  private readonly waiting: Uint8Array[] = []
  private closed = false
  bytesIn = 0
  bytesOut = 0

  constructor (private readonly init: ChannelInit) {
    this.stream = init.stream
    this.remotePeer = init.remotePeer
    this.decoder = new FrameDecoder(init.maxFrameBytes, {
      // a peer whose limit is larger (its own maxFrameBytes) costs only that frame, not the stream's requests;
      // its head names the request, so the sender hears OVERSIZED at once instead of a reset or a timeout
      skipUpTo: MAX_SKIPPED_FRAME_BYTES,
      onSkipped: (length, head) => {
        this.init.onBadEnvelope(new WireError('OVERSIZED', `a frame of ${length} bytes is over this node's limit of ${init.maxFrameBytes} (maxFrameBytes); dropped`), head, this)
      }
    })
    this.writer = new FrameWriter(init.stream)
    this.stream.addEventListener('message', (event) => { this.receive(event.data instanceof Uint8Array ? event.data : event.data.subarray()) })
    this.stream.addEventListener('close', () => { this.finish() })
    // a peer that stops writing will answer nothing more on this stream: stop using it, close our side
    this.stream.addEventListener('remoteCloseWrite', () => { void this.close() })
    // A long-lived per-peer stream may idle; the messenger reopens one when needed.
    this.stream.inactivityTimeout = 0
    // Pausing (backpressure) stops the muxer's window updates, but what the window already allows
    // keeps arriving: yamux grows a stream's window up to 16 MiB, past the stream's default 4 MiB read
    // buffer, which would abort the stream and lose the messages in it. The window bounds it instead.
    this.stream.maxReadBufferLength = PAUSED_READ_BUFFER_BYTES
  }

  /** Closed, or no longer writable (its writing side was closed from outside the messenger): not for new sends. */
  get isClosed (): boolean {
    return this.closed || this.stream.writeStatus !== 'writable'
  }

  /** Send one envelope; resolves once the stream has taken it, waiting for drain when its buffer is full. */
  async write (payload: Uint8Array): Promise<void> {
    await this.writer.drain()
    if (this.isClosed) throw new DmsError('SEND_FAILED', 'stream closed')
    this.sendFrame(payload)
  }

  /** Send at once when nothing waits for drain (the messenger's fast path); false when the caller must `write()`. */
  trySend (payload: Uint8Array): boolean {
    if (this.writer.blocked || this.isClosed) return false
    this.sendFrame(payload)
    return true
  }

  private sendFrame (payload: Uint8Array): void {
    const frame = encodeFrame(payload)
    this.bytesOut += frame.byteLength
    this.writer.send(frame)
  }

  /** Mark one delivered envelope of `bytes` as handled (for async handlers); resumes a paused stream. */
  settled (bytes: number): void {
    this.inFlight--
    this.inFlightBytes -= bytes
    this.init.deliveries.adjust(this.remotePeer, -bytes)
    if (this.paused && this.inFlight <= MAX_IN_FLIGHT / 2 && this.init.deliveries.within(this.remotePeer)) {
      this.paused = false
      // frames that arrived in the same chunks as the one that paused us go first
      if (this.waiting.length > 0 && !this.closed) this.deliver(this.waiting.splice(0), 0)
      // a stream whose reading side closed while its deliveries were handled cannot (and need not) resume
      if (!this.paused && this.stream.readStatus === 'paused') this.stream.resume()
    }
  }

  /** Count one delivery of `bytes` as in flight until `settled(bytes)`; pauses the stream at the count or byte limit. */
  hold (bytes: number): void {
    this.inFlight++
    this.inFlightBytes += bytes
    const within = this.init.deliveries.force(this.remotePeer, bytes)
    if (!this.paused && (this.inFlight >= MAX_IN_FLIGHT || !within)) {
      this.paused = true
      if (this.stream.readStatus === 'readable') this.stream.pause()
    }
  }

  /** Flush what was written, then close both directions. */
  async close (): Promise<void> {
    if (this.closed) return
    this.writer.flush()
    this.finish()
    await this.stream.close().catch(traced(log.messenger, 'close a messenger stream'))
    if (this.stream.status === 'open' || this.stream.status === 'closing') this.stream.abort(new Error('closed by the messenger'))
  }

  abort (reason: string): void {
    if (!this.closed) this.stream.abort(new Error(reason))
    this.finish()
  }

  private receive (chunk: Uint8Array): void {
    if (this.closed) return
    this.bytesIn += chunk.byteLength
    let frames: Uint8Array[]
    const ended = this.decoder.ended
    try {
      frames = this.decoder.push(chunk)
    } catch (err) {
      this.fail(err as WireError)
      return
    }
    if (!this.charge()) return
    this.armDeadline(this.decoder.ended !== ended)
    if (frames.length === 0) return
    if (this.waiting.length === 0 && !this.paused) this.deliver(frames, 0)
    else this.waiting.push(...frames)
  }

  /** Deliver `frames` from `start` until the stream pauses; the rest wait for `settled()`. */
  private deliver (frames: Uint8Array[], start: number): void {
    for (let i = start; i < frames.length; i++) {
      if (this.paused) {
        this.waiting.push(...frames.slice(i))
        return
      }
      const frame = frames[i]!
      let envelope: Envelope
      try {
        envelope = decodeEnvelope(frame)
      } catch (err) {
        // the framing is intact: one bad envelope costs only itself, never the stream's other requests
        this.init.onBadEnvelope(err instanceof WireError ? err : new WireError('MALFORMED', String(err)), frame, this)
        if (this.closed) return
        continue
      }
      envelope.from = this.remotePeer
      this.init.onEnvelope(envelope, this, frame.byteLength)
      if (this.closed) return
    }
  }

  /** Hold what the decoder buffers in the shared budget; over it, the stream is reset. */
  private charge (): boolean {
    const held = this.decoder.bufferedBytes
    // the common case, whole frames per chunk: nothing held before or after, no budget to touch
    if (held === this.charged) return true
    if (this.init.budget.adjust(this.remotePeer, held - this.charged)) {
      this.charged = held
      return true
    }
    this.fail(new WireError('OVER_BUDGET', `${this.remotePeer} holds more partly sent frame bytes than its budget (${this.init.budget.perPeer} per peer, ${this.init.budget.total} in all)`))
    return false
  }

  /** One deadline per frame, from its first byte: a trickle of bytes does not extend it. */
  private armDeadline (frameCompleted: boolean): void {
    if (this.deadline != null && (!this.decoder.pending || frameCompleted)) {
      clearTimeout(this.deadline)
      this.deadline = undefined
    }
    if (!this.decoder.pending || this.deadline != null) return
    this.deadline = setTimeout(() => {
      this.fail(new WireError('STALLED', `a frame from ${this.remotePeer} was not complete within ${this.init.frameDeadlineMs} ms`))
    }, this.init.frameDeadlineMs)
    this.deadline.unref()
  }

  private fail (error: WireError): void {
    this.init.onWireError(error instanceof WireError ? error : new WireError('MALFORMED', String(error)), this)
    this.abort(error.message)
  }

  private finish (): void {
    if (this.closed) return
    this.closed = true
    clearTimeout(this.deadline)
    this.init.budget.adjust(this.remotePeer, -this.charged)
    this.charged = 0
    this.init.onClose(this)
  }
}
