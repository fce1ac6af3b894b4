/** Events allowed per key (a peer id, an IP address): a steady rate and a burst. */
export interface RateInit {
  /** @default 2 */
  perSecond?: number
  /** @default 6 */
  burst?: number
}

/** Token buckets by key, bounded in number (the oldest are forgotten first). */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number, at: number }>()
  private readonly perSecond: number
  private readonly burst: number

  constructor (init: RateInit = {}, private readonly maxKeys = 10_000) {
    this.perSecond = init.perSecond ?? 2
    this.burst = init.burst ?? 6
  }

  /** Take one token for `key`; false when it has none left. */
  take (key: string, now = Date.now()): boolean {
    const bucket = this.buckets.get(key) ?? { tokens: this.burst, at: now }
    bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.perSecond)
    bucket.at = now
    this.buckets.delete(key)
    this.buckets.set(key, bucket)
    if (this.buckets.size > this.maxKeys) this.buckets.delete(this.buckets.keys().next().value as string)
    if (bucket.tokens < 1) return false
    bucket.tokens -= 1
    return true
  }
}
