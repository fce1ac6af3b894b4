import { RateLimiter } from '../rate-limit.js'
import { log } from '../log.js'
import type { MessengerError } from './messenger-types.js'

/** Unsolicited remote errors and invalid bid requests reported per peer at most this often; the rest are only counted. */
const THROTTLED_REPORTS = { perSecond: 1, burst: 1 }
/** What a peer's messages are refused for (bad envelopes, unknown types, failing handlers): reported up to 10 a second per peer and code. */
const REFUSAL_REPORTS = { perSecond: 10, burst: 20 }

/** A messenger's error reports: every one counted by code, handed to `onError`, and logged. */
export class ErrorReports {
  private readonly counts: Record<string, number> = {}
  private readonly throttle = new RateLimiter(THROTTLED_REPORTS)
  private readonly refusals = new RateLimiter(REFUSAL_REPORTS)

  constructor (private readonly onError?: (error: MessengerError) => void) {}

  report (code: string, message: string, peer?: string): void {
    log.messenger.error('%s %s', code, message)
    this.counts[code] = (this.counts[code] ?? 0) + 1
    try {
      this.onError?.({ code, message, ...(peer != null ? { peer } : {}) })
    } catch {
      // a broken error listener must not break message handling
    }
  }

  /** Report at most once a second per peer and code; always count. */
  reportThrottled (code: string, message: string, peer?: string): void {
    if (this.throttle.take(`${code} ${peer ?? ''}`)) this.report(code, message, peer)
    else this.counts[code] = (this.counts[code] ?? 0) + 1
  }

  /** A refusal of a peer's message: each one answers its sender, but a flood of them is only counted. */
  reportRefusal (code: string, message: string, peer?: string): void {
    if (this.refusals.take(`${code} ${peer ?? ''}`)) this.report(code, message, peer)
    else this.counts[code] = (this.counts[code] ?? 0) + 1
  }

  /** Reports so far, by code. */
  counted (): Record<string, number> {
    return { ...this.counts }
  }
}
