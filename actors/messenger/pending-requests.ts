import type { Channel } from './channel.js'
import { MessageError } from './messenger-types.js'
import type { Envelope, ErrorBody } from '../wire/envelope.js'
import { safeText } from './safe-text.js'
import { DeadlineQueue } from './deadline-queue.js'

interface Pending {
  resolve: (body: unknown) => void
  reject: (err: Error) => void
  /** `performance.now()` past which the request fails with TIMEOUT. */
  deadline: number
  /** Only this peer may answer, and only on the channel the request went out on. */
  peer: string
  channel: Channel | undefined
  type: string
  timeoutMs: number
  /** Called once when the request settles, however it does (an abort listener's removal). */
  onSettled?: () => void
}

/** What became of a reply: it settled a request, answered none, or came from someone the request did not go to. */
export type SettleOutcome = 'settled' | 'unknown' | 'forged'

/**
 * The requests of one messenger that wait for a reply: one entry each,
 * settled by the reply from the peer (and stream) the request went to, or by
 * its deadline, or by that stream closing. One timer serves every deadline: it
 * is armed for the earliest and re-armed when it fires, so a request costs no
 * timer of its own (creating and clearing one per request showed in the round
 * trip). Requests wait in one queue per timeout, where deadlines only grow, so
 * a firing looks at the heads, not at every pending request. The timer does not
 * keep the process alive: a pending request has a running host, which does.
 */
export class PendingRequests {
  private readonly entries = new Map<string, Pending>()
  private readonly queues = new Map<number, DeadlineQueue<string>>()
  /** Queued ids in all, settled ones included (for compaction). */
  private queued = 0
  private timer?: NodeJS.Timeout
  /** When the armed timer fires (`performance.now()` time). */
  private timerAt = Infinity

  get size (): number {
    return this.entries.size
  }

  /** Wait for the reply to request `id`; rejects with TIMEOUT after `timeoutMs`. */
  wait (id: string, peer: string, type: string, timeoutMs: number, channel?: Channel): Promise<unknown> {
    // a plain promise, not an async function: the reply is one microtask from its caller
    return new Promise((resolve, reject) => {
      const deadline = performance.now() + timeoutMs
      this.entries.set(id, { resolve, reject, deadline, peer, type, timeoutMs, channel })
      this.enqueue(id, deadline, timeoutMs)
      if (deadline < this.timerAt) this.arm(deadline)
    })
  }

  /** Call `settled` once when request `id` settles, however it does. */
  onSettled (id: string, settled: () => void): void {
    const pending = this.entries.get(id)
    if (pending != null) pending.onSettled = settled
  }

  /** The request went out on `channel`: only that stream may answer it. */
  bind (id: string, channel: Channel): void {
    const pending = this.entries.get(id)
    if (pending != null) pending.channel = channel
  }

  /** Stop waiting for `id` and reject it with `err` (a send that failed). */
  fail (id: string, err: Error): void {
    const pending = this.take(id)
    pending?.reject(err)
  }

  /** A `res` or `err` envelope arrived on `channel`. */
  settle (envelope: Envelope, channel: Channel): SettleOutcome {
    const id = envelope.re!
    const pending = this.entries.get(id)
    if (pending == null) return 'unknown'
    // another peer (or another stream) answering our request: a forgery, never a reply
    if (pending.peer !== channel.remotePeer || (pending.channel != null && pending.channel !== channel)) return 'forged'
    this.take(id)
    if (envelope.kind === 'res') {
      pending.resolve(envelope.body)
    } else {
      const body = envelope.body as ErrorBody
      const code = safeText(body.code, 40)
      pending.reject(new MessageError('REMOTE_ERROR', `${code}: ${safeText(body.message)}`, code))
    }
    return 'settled'
  }

  /** The peer a pending request went to (for reports about forged replies). */
  peerOf (id: string): string | undefined {
    return this.entries.get(id)?.peer
  }

  /** A stream closed: the requests sent on it will get no reply. */
  failChannel (channel: Channel): void {
    for (const [id, pending] of this.entries) {
      if (pending.channel === channel) this.fail(id, new MessageError('SEND_FAILED', `the stream to ${channel.remotePeer} closed before the reply`))
    }
  }

  /** The messenger detached: nothing will answer. */
  failAll (err: Error): void {
    for (const id of [...this.entries.keys()]) this.fail(id, err)
  }

  private take (id: string): Pending | undefined {
    const pending = this.entries.get(id)
    if (pending == null) return undefined
    this.entries.delete(id)
    pending.onSettled?.()
    return pending
  }

  private enqueue (id: string, deadline: number, timeoutMs: number): void {
    let queue = this.queues.get(timeoutMs)
    if (queue == null) this.queues.set(timeoutMs, queue = new DeadlineQueue())
    queue.push(id, deadline)
    // answered requests stay queued until a firing passes them: drop them when they are most of a long queue
    if (++this.queued > 4096 && this.queued > 4 * this.entries.size) {
      this.queued = 0
      for (const each of this.queues.values()) { each.compact(this.isLive); this.queued += each.size }
    }
  }

  /** Still waiting, and with this deadline (an id answered and reused would have another). */
  private readonly isLive = (id: string, deadline: number): boolean => this.entries.get(id)?.deadline === deadline

  private readonly timeOut = (id: string): void => {
    const pending = this.take(id)
    pending?.reject(new MessageError('TIMEOUT', `no reply to ${pending.type} from ${pending.peer} within ${pending.timeoutMs} ms`))
  }

  private arm (at: number): void {
    clearTimeout(this.timer)
    this.timerAt = at
    this.timer = setTimeout(this.expire, Math.max(0, at - performance.now()))
    this.timer.unref()
  }

  /** Fail every request past its deadline, then wait for the earliest of the rest. */
  private readonly expire = (): void => {
    this.timer = undefined
    this.timerAt = Infinity
    const now = performance.now()
    let next = Infinity
    this.queued = 0
    for (const [timeoutMs, queue] of this.queues) {
      next = Math.min(next, queue.expire(now, this.isLive, this.timeOut))
      if (queue.size === 0) this.queues.delete(timeoutMs)
      else this.queued += queue.size
    }
    if (next < Infinity) this.arm(next)
  }
}
