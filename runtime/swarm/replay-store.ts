import { join } from 'node:path'
import { writeFileAtomic } from '../atomic-file.js'
import { REQUEST_WINDOW_MS } from './key-exchange.js'
import { readRegularFile } from '../regular-file.js'

/**
 * Nonces of key requests the owner accepted, kept on disk for as long as a
 * request's time can pass the window, so a captured request cannot be
 * replayed across an owner restart. Only requests that passed the
 * authorisation and signature checks are remembered: strangers cannot fill it.
 */
export class ReplayStore {
  private seen?: Map<string, number>
  private readonly path: string

  constructor (dir: string, private readonly windowMs = 2 * REQUEST_WINDOW_MS, private readonly maxEntries = 10_000) {
    this.path = join(dir, 'replay.json')
  }

  /** True the first time a nonce is seen (and it is then on disk); false for a replay. */
  async remember (nonce: Uint8Array, now = Date.now()): Promise<boolean> {
    const seen = await this.load(now)
    const id = Buffer.from(nonce).toString('hex')
    if (seen.has(id)) return false
    seen.set(id, now)
    for (const [known, at] of seen) { if (now - at <= this.windowMs && seen.size <= this.maxEntries) break; seen.delete(known) }
    await writeFileAtomic(this.path, JSON.stringify(Object.fromEntries(seen)), { mode: 0o600 })
    return true
  }

  private async load (now: number): Promise<Map<string, number>> {
    if (this.seen != null) return this.seen
    const seen = new Map<string, number>()
    try {
      const saved = JSON.parse(await readRegularFile(this.path, 'utf8')) as Record<string, unknown>
      for (const [id, at] of Object.entries(saved)) if (typeof at === 'number' && Number.isFinite(at) && now - at <= this.windowMs) seen.set(id, at)
    } catch {
      // no file yet, or unreadable: start empty (the time window still bounds replays)
    }
    this.seen = seen
    return seen
  }
}
