/** Punches with one peer per minute, at most, in either role: a peer cannot make us send SYNs in a loop. */
export const MAX_PUNCHES_PER_PEER = 4
/**
 * Punches this node takes part in per minute in all, either role (each costs a STUN probe and a
 * connection to an address the peer chose), and punches per target address and port:
 * peer ids cost nothing to make, so throwaway identities must not multiply the per-peer
 * limit into STUN probes and connections to an address of someone's choosing.
 */
export const MAX_PROBES = 10
export const MAX_PER_TARGET = 2
/** After a failed punch with a peer, the next is tried (on the same relayed connection or a new one) after 30 s, then 1, 2, … up to 10 min. */
const RETRY_FIRST_MS = 30_000
const RETRY_MAX_MS = 600_000
/** Entries kept before expired ones are forgotten (peers may come and go by the thousand). */
const FORGET_ABOVE = 256
const MINUTE_MS = 60_000

/**
 * What a node spends on hole punches (docs/security.md): per peer, per target,
 * answered in all, one punch at a time per peer, and a backoff after failures.
 * Pure bookkeeping on the times it is given.
 */
export class PunchBudget {
  private readonly busy = new Set<string>()
  private readonly byPeer = new Map<string, number[]>()
  private readonly byTarget = new Map<string, number[]>()
  private answered: number[] = []
  private readonly backoff = new Map<string, { until: number, ms: number }>()

  /** Take a punch slot for `peer`, unless one is under way or the minute's are used up. */
  claimPeer (peer: string, now: number): boolean {
    this.forgetExpired(now)
    if (this.busy.has(peer)) return false
    if (!take(this.byPeer, peer, now, MAX_PUNCHES_PER_PEER)) return false
    this.busy.add(peer)
    return true
  }

  /** The punch with `peer` ended. */
  release (peer: string): void {
    this.busy.delete(peer)
  }

  /** Whether a slot of the node-wide probe budget is free now (nothing taken). */
  canProbe (now: number): boolean {
    return this.answered.filter((t) => now - t < MINUTE_MS).length < MAX_PROBES
  }

  /** Take a slot of the node-wide budget for a punch's STUN probe, in either role. */
  claimProbe (now: number): boolean {
    this.answered = this.answered.filter((t) => now - t < MINUTE_MS)
    if (this.answered.length >= MAX_PROBES) return false
    this.answered.push(now)
    return true
  }

  /** Take a slot for connecting to `target` (ip:port), whoever asked. */
  claimTarget (target: string, now: number): boolean {
    return take(this.byTarget, target, now, MAX_PER_TARGET)
  }

  /** Whether this side waits before starting another punch with `peer` (after failures). */
  backingOff (peer: string, now: number): boolean {
    return (this.backoff.get(peer)?.until ?? 0) > now
  }

  /** A punch with `peer` ended so: a failure doubles the wait before the next (30 s up to 10 min). */
  outcome (peer: string, failed: boolean, now: number): void {
    if (!failed) { this.backoff.delete(peer); return }
    const ms = Math.min(RETRY_MAX_MS, 2 * (this.backoff.get(peer)?.ms ?? RETRY_FIRST_MS / 2))
    this.backoff.set(peer, { until: now + ms, ms })
  }

  /** Entries held, for tests: they stay bounded. */
  get size (): number {
    return this.byPeer.size + this.byTarget.size + this.backoff.size
  }

  /** Forget entries that no longer limit anything. */
  private forgetExpired (now: number): void {
    if (this.size < FORGET_ABOVE) return
    for (const [key, times] of this.byPeer) if (times.every((t) => now - t >= MINUTE_MS)) this.byPeer.delete(key)
    for (const [key, times] of this.byTarget) if (times.every((t) => now - t >= MINUTE_MS)) this.byTarget.delete(key)
    for (const [key, entry] of this.backoff) if (now - entry.until >= RETRY_MAX_MS) this.backoff.delete(key)
  }
}

/** Record one event for `key` if fewer than `limit` happened in the last minute. */
function take (windows: Map<string, number[]>, key: string, now: number, limit: number): boolean {
  const times = (windows.get(key) ?? []).filter((t) => now - t < MINUTE_MS)
  if (times.length >= limit) return false
  times.push(now)
  windows.set(key, times)
  return true
}
