/**
 * Keys in the order their deadlines fall, for keys that all share one timeout:
 * each deadline is `now + timeout`, so they only grow, and the earliest is
 * always at the head. Keys that were settled meanwhile are not removed when
 * they settle; whoever reads the head skips them (`isLive`), so each costs O(1)
 * in all. A queue of mostly settled keys is compacted once it is large.
 */
export class DeadlineQueue<K> {
  private keys: K[] = []
  private deadlines: number[] = []
  private head = 0

  get size (): number {
    return this.keys.length - this.head
  }

  push (key: K, deadline: number): void {
    this.keys.push(key)
    this.deadlines.push(deadline)
  }

  /**
   * Take every key whose deadline is at or before `now` (skipping keys that are
   * no longer live, with the deadline they were queued with); returns the
   * earliest deadline of the live keys left, or Infinity.
   */
  expire (now: number, isLive: (key: K, deadline: number) => boolean, onExpired: (key: K) => void): number {
    while (this.head < this.keys.length) {
      const key = this.keys[this.head]!
      const deadline = this.deadlines[this.head]!
      if (isLive(key, deadline)) {
        if (deadline > now) break
        this.head++
        onExpired(key)
      } else {
        this.head++
      }
    }
    this.trim()
    return this.head < this.keys.length ? this.deadlines[this.head]! : Infinity
  }

  /** Drop the keys that are no longer live (when most of a large queue is settled). */
  compact (isLive: (key: K, deadline: number) => boolean): void {
    const keys: K[] = []
    const deadlines: number[] = []
    for (let i = this.head; i < this.keys.length; i++) {
      if (isLive(this.keys[i]!, this.deadlines[i]!)) { keys.push(this.keys[i]!); deadlines.push(this.deadlines[i]!) }
    }
    this.keys = keys
    this.deadlines = deadlines
    this.head = 0
  }

  private trim (): void {
    if (this.head === this.keys.length) {
      this.keys = []
      this.deadlines = []
      this.head = 0
    } else if (this.head > 1024 && this.head * 2 > this.keys.length) {
      this.keys = this.keys.slice(this.head)
      this.deadlines = this.deadlines.slice(this.head)
      this.head = 0
    }
  }
}
