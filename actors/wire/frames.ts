import { WireError } from './envelope.js'

/** Largest varint header: 5 bytes covers every length up to 2^35. */
const MAX_HEADER_BYTES = 5

/** Prefix `payload` with its length as an unsigned LEB128 varint, in one buffer. */
export function encodeFrame (payload: Uint8Array): Uint8Array {
  const length = payload.byteLength
  let headerBytes = 1
  for (let rest = Math.floor(length / 128); rest > 0; rest = Math.floor(rest / 128)) headerBytes++
  const frame = new Uint8Array(headerBytes + length)
  let rest = length
  for (let i = 0; i < headerBytes - 1; i++) {
    frame[i] = (rest & 0x7f) | 0x80
    rest = Math.floor(rest / 128)
  }
  frame[headerBytes - 1] = rest
  frame.set(payload, headerBytes)
  return frame
}

/** Bytes of a skipped frame kept to read its envelope's head (id and kind come first). */
export const SKIPPED_HEAD_BYTES = 256

export interface FrameDecoderOptions {
  /**
   * Frames over `maxFrameBytes` but at most this long are skipped, not fatal: their bytes are
   * dropped as they come (never buffered whole), and `onSkipped` gets the length and the first
   * SKIPPED_HEAD_BYTES. A peer with a larger limit then costs only its own frame. @default 0 (none)
   */
  skipUpTo?: number
  onSkipped?: (length: number, head: Uint8Array) => void
}

/**
 * Splits a byte stream into length-prefixed frames. A declared length above
 * `maxFrameBytes` fails at once (or is skipped, see `skipUpTo`), before any of
 * that frame is buffered.
 */
export class FrameDecoder {
  private chunks: Uint8Array[] = []
  private buffered = 0
  /** Length of the frame being collected, once its header is read. */
  private frameLength = -1
  /** Of the frame being skipped: its length, its bytes still to drop, and its head (filled up to skipLength - skipRemaining). */
  private skipLength = 0
  private skipRemaining = 0
  private skipHead = new Uint8Array(0)
  private endedCount = 0

  constructor (private readonly maxFrameBytes: number, private readonly options: FrameDecoderOptions = {}) {}

  /** True while part of a frame is buffered (or being skipped). */
  get pending (): boolean {
    return this.buffered > 0 || this.frameLength >= 0 || this.skipRemaining > 0
  }

  /** Frames ended so far, delivered or skipped (a frame's deadline ends with it). */
  get ended (): number {
    return this.endedCount
  }

  /** Bytes held for frames not yet complete. */
  get bufferedBytes (): number {
    return this.buffered
  }

  /** Feed bytes; returns every frame they complete. Throws WireError OVERSIZED or MALFORMED. */
  push (chunk: Uint8Array): Uint8Array[] {
    if (chunk.byteLength > 0) {
      this.chunks.push(chunk)
      this.buffered += chunk.byteLength
    }
    const frames: Uint8Array[] = []
    for (;;) {
      if (this.skipRemaining > 0 && !this.skip()) break
      if (this.frameLength < 0 && !this.readHeader()) break
      if (this.frameLength < 0) continue // a header of a frame to skip
      if (this.buffered < this.frameLength) break
      frames.push(this.take(this.frameLength))
      this.frameLength = -1
      this.endedCount++
    }
    return frames
  }

  private readHeader (): boolean {
    let length = 0
    let scale = 1
    let index = 0
    for (const chunk of this.chunks) {
      for (let i = 0; i < chunk.byteLength; i++) {
        const byte = chunk[i]!
        length += (byte & 0x7f) * scale
        scale *= 128
        index++
        if ((byte & 0x80) === 0) {
          if (length > this.maxFrameBytes && length > (this.options.skipUpTo ?? 0)) throw new WireError('OVERSIZED', `frame of ${length} bytes exceeds the ${this.maxFrameBytes}-byte limit`)
          this.take(index)
          if (length > this.maxFrameBytes) {
            this.skipLength = this.skipRemaining = length
            this.skipHead = new Uint8Array(Math.min(SKIPPED_HEAD_BYTES, length))
          } else {
            this.frameLength = length
          }
          return true
        }
        if (index >= MAX_HEADER_BYTES) throw new WireError('MALFORMED', 'frame length header is too long')
      }
    }
    return false
  }

  /** Drop what is buffered of the frame being skipped, its head kept; true once it is all gone. */
  private skip (): boolean {
    const headSoFar = this.skipLength - this.skipRemaining
    if (headSoFar < this.skipHead.byteLength) {
      const count = Math.min(this.skipHead.byteLength - headSoFar, this.buffered)
      this.skipHead.set(this.take(count), headSoFar)
      this.skipRemaining -= count
      if (headSoFar + count === this.skipHead.byteLength) this.options.onSkipped?.(this.skipLength, this.skipHead)
    }
    while (this.skipRemaining > 0 && this.chunks.length > 0) {
      const first = this.chunks[0]!
      const count = Math.min(first.byteLength, this.skipRemaining)
      if (count === first.byteLength) this.chunks.shift()
      else this.chunks[0] = first.subarray(count)
      this.buffered -= count
      this.skipRemaining -= count
    }
    if (this.skipRemaining > 0) return false
    this.endedCount++
    return true
  }

  private take (count: number): Uint8Array {
    const first = this.chunks[0]
    if (first != null && first.byteLength >= count) {
      const out = first.subarray(0, count)
      if (first.byteLength === count) this.chunks.shift()
      else this.chunks[0] = first.subarray(count)
      this.buffered -= count
      return out
    }
    const out = new Uint8Array(count)
    let filled = 0
    while (filled < count) {
      const chunk = this.chunks[0]!
      const need = count - filled
      if (chunk.byteLength <= need) {
        out.set(chunk, filled)
        filled += chunk.byteLength
        this.chunks.shift()
      } else {
        out.set(chunk.subarray(0, need), filled)
        this.chunks[0] = chunk.subarray(need)
        filled += need
      }
    }
    this.buffered -= count
    return out
  }
}
