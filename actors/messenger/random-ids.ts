import { randomFillSync } from 'node:crypto'

/** Envelope ids: 128 random bits, base64url, drawn from a pool so a message costs no syscall. */
export class RandomIds {
  private readonly pool = Buffer.alloc(16 * 256)
  private offset = this.pool.length

  next (): string {
    if (this.offset === this.pool.length) { randomFillSync(this.pool); this.offset = 0 }
    const id = this.pool.toString('base64url', this.offset, this.offset + 16)
    this.offset += 16
    return id
  }
}
