/** Limits on bytes of partly received frames held in memory. */
export interface ByteBudgetInit {
  /** @default 4194304 (4 MiB) */
  perPeer?: number
  /** @default 67108864 (64 MiB) */
  total?: number
}

/**
 * One budget shared by every messenger stream of a node: what each peer holds
 * in partial frames, and all of them together. A stream whose growth would
 * cross either limit is refused (and reset by its owner).
 */
export class ByteBudget {
  private readonly byPeer = new Map<string, number>()
  private held = 0
  readonly perPeer: number
  readonly total: number

  constructor (init: ByteBudgetInit = {}) {
    this.perPeer = init.perPeer ?? 4 << 20
    this.total = init.total ?? 64 << 20
  }

  get bytes (): number {
    return this.held
  }

  /** Charge `bytes` to `peer` even past the limits; false when `peer` or the node is now over one (the caller applies backpressure). */
  force (peer: string, bytes: number): boolean {
    const next = (this.byPeer.get(peer) ?? 0) + bytes
    this.byPeer.set(peer, next)
    this.held += bytes
    return next <= this.perPeer && this.held <= this.total
  }

  /** Whether `peer` and the node are within the limits. */
  within (peer: string): boolean {
    return (this.byPeer.get(peer) ?? 0) <= this.perPeer && this.held <= this.total
  }

  /** Change what `peer` holds by `delta` bytes; false (and nothing changed) when growth would cross a limit. */
  adjust (peer: string, delta: number): boolean {
    const current = this.byPeer.get(peer) ?? 0
    if (delta > 0 && (current + delta > this.perPeer || this.held + delta > this.total)) return false
    const next = current + delta
    if (next <= 0) this.byPeer.delete(peer)
    else this.byPeer.set(peer, next)
    this.held += delta
    return true
  }
}
