import type { Stream } from '@libp2p/interface'

/** Frames of one turn coalesced into one stream write, up to this many bytes. */
const CORK_BYTES = 64 * 1024

/**
 * Writes frames to one stream, coalescing bursts: the first frame of an
 * event-loop turn goes out at once (a lone request pays no delay), the frames
 * that follow it in the same turn leave together at the turn's end, or as soon
 * as they fill 64 KiB. Each stream write costs a muxer frame, an encryption and
 * socket writes, so a burst of small messages costs a few of them instead of
 * one per message. Tracks the stream's drain for backpressure.
 */
export class FrameWriter {
  private drained?: Promise<void>
  private corked: Uint8Array[] = []
  private corkedBytes = 0
  private inTurn = false

  constructor (private readonly stream: Stream) {}

  /** The stream's buffer is full: wait for `drain()` before sending more. */
  get blocked (): boolean {
    return this.drained != null
  }

  async drain (): Promise<void> {
    while (this.drained != null) await this.drained
  }

  send (frame: Uint8Array): void {
    if (!this.inTurn) {
      this.inTurn = true
      setImmediate(this.endOfTurn)
      this.push(frame)
      return
    }
    this.corked.push(frame)
    this.corkedBytes += frame.byteLength
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
    this.inTurn = false
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
