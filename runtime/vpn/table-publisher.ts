import type { NodeComponents } from '../node-components.js'
import type { SignedTable } from './signed-table.js'

export interface Delivery {
  /** Highest version the peer confirmed. */
  version: number
  /** Why the last attempt failed, if it did. */
  error?: string
}

export interface PublishOptions {
  /** Tries per peer before giving up (a restarted member asks with vpn.sync). @default 5 */
  attempts?: number
  /** How long one try may take. @default 5000 */
  timeoutMs?: number
}

/**
 * Delivers the leader's latest signed table to each member: one loop per peer,
 * always sending the newest version, bounded retries with backoff. A member
 * that confirms a version is not sent it again.
 */
export class TablePublisher {
  private latest?: SignedTable
  private readonly deliveries = new Map<string, Delivery>()
  private readonly running = new Map<string, Promise<void>>()

  constructor (private readonly node: Pick<NodeComponents, 'messages'>, private readonly unreachable: (peer: string, reason: string) => void = () => {}) {}

  /** Send `signed` to `peers`; resolves when every peer confirmed it or ran out of tries. */
  async publish (signed: SignedTable, peers: string[], options: PublishOptions = {}): Promise<void> {
    if (this.latest?.table.vpnId !== signed.table.vpnId) this.deliveries.clear()
    this.latest = signed
    await Promise.all(peers.map(async (peer) => {
      // a loop already running for this peer picks up the newest version
      await this.running.get(peer)
      if (this.confirmed(peer) >= signed.table.version) return
      const loop = this.deliver(peer, options).finally(() => { this.running.delete(peer) })
      this.running.set(peer, loop)
      await loop
    }))
  }

  /**
   * Resolves once each of `peers` has confirmed `version` or failed a first
   * try (the loop goes on retrying), or after `timeoutMs`: what a caller that
   * just invited them can truthfully report.
   */
  async firstOutcome (peers: string[], version: number, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs
    const known = (peer: string): boolean => this.confirmed(peer) >= version || this.deliveries.get(peer)?.error != null
    while (Date.now() < deadline && !peers.every(known)) await new Promise((resolve) => setTimeout(resolve, 50))
  }

  /** What each peer confirmed, for status. */
  status (): Record<string, Delivery> {
    return Object.fromEntries(this.deliveries)
  }

  private confirmed (peer: string): number {
    return this.deliveries.get(peer)?.version ?? 0
  }

  private async deliver (peer: string, options: PublishOptions): Promise<void> {
    const attempts = options.attempts ?? 5
    for (let attempt = 0; attempt < attempts;) {
      const signed = this.latest!
      if (this.confirmed(peer) >= signed.table.version) return
      try {
        await this.node.messages.request(peer, 'vpn.table', signed, { timeoutMs: options.timeoutMs ?? 5000 })
        this.deliveries.set(peer, { version: signed.table.version })
        attempt = 0
      } catch (err) {
        this.deliveries.set(peer, { version: this.confirmed(peer), error: (err as Error).message })
        attempt++
        if (attempt < attempts) await new Promise((resolve) => setTimeout(resolve, 250 * 2 ** attempt))
        else this.unreachable(peer, (err as Error).message)
      }
    }
  }
}
