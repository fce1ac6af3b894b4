import type { Stream } from '@libp2p/interface'

/** Frames of one burst coalesced into one stream write, up to this many bytes. */
const CORK_BYTES = 64 * 1024

/** A frame sent within this long of the previous one's write is part of a burst. */
const BURST_GAP_MS = 0.05

/**
 * Writes frames to one stream, coalescing bursts. A frame that follows the
 * previous write by more than 50 µs (a lone request, a reply) goes out at once
 * and schedules nothing. A frame that follows closer (a loop of sends) starts
 * a cork: it and the frames after it leave together at the end of the
 * event-loop turn (setImmediate), or as soon as they fill 64 KiB. Each stream
 * write costs a muxer frame, an encryption and socket writes, so a burst of
 * small messages costs a few of them instead of one per message. Tracks the
 * stream's drain for backpressure.
 */
export class FrameWriter {
  private drained?: Promise<void>
  private corked: Uint8Array[] = []
  private corkedBytes = 0
  private corkScheduled = false
  private lastSend = -Infinity

  constructor (private readonly stream: Stream) {}

  /** The stream's buffer is full: wait for `drain()` before sending more. */
  get blocked (): boolean {
    return this.drained != null
  }

  async drain (): Promise<void> {
    while (this.drained != null) await this.drained
  }

  send (frame: Uint8Array): void {
    const now = performance.now()
    if (!this.corkScheduled && now - this.lastSend > BURST_GAP_MS) {
      this.push(frame)
      // from the end of the write: pushing a frame through the muxer, encryption and socket takes
      // tens of microseconds, and the next frame of a burst must still find itself within the gap
      this.lastSend = performance.now()
      return
    }
    this.lastSend = now
    this.corked.push(frame)
    this.corkedBytes += frame.byteLength
    if (!this.corkScheduled) {
      this.corkScheduled = true
      setImmediate(this.endOfTurn)
    }
    if (this.corkedBytes >= CORK_BYTES) this.flush()
  }

  /** Write what waits for the turn's end now (before a close). */
  flush (): void {
    if (this.corked.length === 0) return
    const frames = this.corked
    const size = this.corkedBytes
    this.corked = []
    this.corkedBytes = 0
    if (frames.length === 1) { this.push(frames[0]!); return }
    const joined = new Uint8Array(size)
    let offset = 0
    for (const frame of frames) { joined.set(frame, offset); offset += frame.byteLength }
    this.push(joined)
  }

  private readonly endOfTurn = (): void => {
    this.corkScheduled = false
    this.flush()
  }

  private push (data: Uint8Array): void {
    // a stream that closed meanwhile takes nothing more; its channel reports the close
    if (this.stream.writeStatus !== 'writable') return
    if (this.stream.send(data)) return
    this.drained ??= new Promise<void>((resolve) => {
      const done = (): void => {
        this.stream.removeEventListener('drain', done)
        this.stream.removeEventListener('close', done)
        this.drained = undefined
        resolve()
      }
      this.stream.addEventListener('drain', done)
      this.stream.addEventListener('close', done)
    })
  }
}
