import { readFile, rm, appendFile, open, rename, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { writeFileAtomic } from '../atomic-file.js'
import { makeDir } from '../make-dir.js'
import { readSwarmKeyFile, writeSwarmKeyFile } from './key-file.js'
import { log } from '../../actors/log.js'
import { DmsError } from '../errors.js'
import { readRegularFile } from '../regular-file.js'

/** What survives a restart, besides the key (kept in swarm.key, Kubo format). */
export interface SwarmState {
  role: 'owner' | 'member'
  network: string
  epoch: number
  /** Owner: the authorised peers. */
  authorised?: string[]
  /** Owner: a revocation is saved and its rotation has not finished; a restart rotates first. */
  rotationDue?: boolean
  /** Member: the owner's peer id and public address. */
  owner?: string
  ownerAddress?: string
  /** The owner's private-network addresses. */
  bootstrap: string[]
}

export interface AuditRecord {
  action: 'grant' | 'deny' | 'deny-summary' | 'rotate' | 'revoke' | 'evict' | 'authorise' | 'create' | 'notify-failed' | 'leave'
  peer?: string
  reason?: string
  epoch?: number
  /** Names the key involved; never the key. */
  fingerprint?: string
  /** deny-summary: denials of unauthenticated requests since the last summary, by reason. */
  counts?: Record<string, number>
  /** evict: whether the revoked member acknowledged its eviction notice. */
  delivered?: boolean
}

export type AuditEntry = AuditRecord & { time: string }

export interface AuditLimits {
  /** audit.log is rotated to audit.log.1 (and so on) past this size. @default 1048576 */
  maxBytes?: number
  /** Rotated files kept. @default 3 */
  keep?: number
}

/** The swarm's files in the data dir: state.json and swarm.key (both 0600, atomic), audit.log (append-only, capped). */
export class SwarmStore {
  readonly dir: string
  private readonly maxAuditBytes: number
  private readonly keepAudit: number

  constructor (dataDir: string, limits: AuditLimits = {}) {
    this.dir = join(dataDir, 'swarm')
    this.maxAuditBytes = limits.maxBytes ?? 1 << 20
    this.keepAudit = limits.keep ?? 3
  }

  get keyPath (): string { return join(this.dir, 'swarm.key') }
  get auditPath (): string { return join(this.dir, 'audit.log') }
  private get statePath (): string { return join(this.dir, 'state.json') }

  async load (): Promise<{ state: SwarmState, key: Uint8Array } | undefined> {
    let text: string
    try {
      text = await readRegularFile(this.statePath, 'utf8')
    } catch {
      return undefined
    }
    let state: SwarmState
    try {
      state = JSON.parse(text) as SwarmState
      if (state.role !== 'owner' && state.role !== 'member') throw new DmsError('STATE_CORRUPT', 'unknown role')
      if (!Number.isInteger(state.epoch) || !Array.isArray(state.bootstrap)) throw new DmsError('STATE_CORRUPT', 'bad epoch or bootstrap')
    } catch (err) {
      throw new DmsError('STATE_CORRUPT', `${this.statePath} is corrupt (${(err as Error).message}); remove it to forget the swarm`)
    }
    return { state, key: await readSwarmKeyFile(this.keyPath) }
  }

  /** Write the key first, then the state that refers to it. */
  async save (state: SwarmState, key: Uint8Array): Promise<void> {
    await writeSwarmKeyFile(this.keyPath, key)
    await this.saveState(state)
  }

  /** The state alone (the key is unchanged). */
  async saveState (state: SwarmState): Promise<void> {
    await writeFileAtomic(this.statePath, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 })
  }

  async clear (): Promise<void> {
    await rm(this.statePath, { force: true })
    await rm(this.keyPath, { force: true })
  }

  /** Append one line to the audit log and flush it to disk; rotate the log when it is full. */
  async audit (record: AuditRecord): Promise<void> {
    log.swarm('audit %o', record)
    const line = `${JSON.stringify({ time: new Date().toISOString(), ...record })}\n`
    await makeDir(this.dir)
    const size = await stat(this.auditPath).then((s) => s.size, () => 0)
    if (size + line.length > this.maxAuditBytes) await this.rotateAudit()
    await appendFile(this.auditPath, line, { mode: 0o600 })
    const handle = await open(this.auditPath, 'r')
    try { await handle.sync() } finally { await handle.close() }
  }

  private async rotateAudit (): Promise<void> {
    await rm(`${this.auditPath}.${this.keepAudit}`, { force: true })
    for (let n = this.keepAudit - 1; n >= 1; n--) await rename(`${this.auditPath}.${n}`, `${this.auditPath}.${n + 1}`).catch(() => {}) // moves only the files that exist
    await rename(this.auditPath, `${this.auditPath}.1`).catch(() => {}) // no log yet: nothing to move
  }

  /**
   * A page of the audit log, oldest first: `limit` entries ending `skip` entries
   * before the newest. Reads the current file, and the rotated ones only as far as the page needs.
   */
  async auditLog (page: { limit?: number, skip?: number } = {}): Promise<AuditEntry[]> {
    const limit = Math.max(0, Math.min(page.limit ?? 100, 10_000))
    const skip = Math.max(0, page.skip ?? 0)
    const newestFirst: AuditEntry[] = []
    for (let n = 0; n <= this.keepAudit && newestFirst.length < skip + limit; n++) {
      const text = await readFile(n === 0 ? this.auditPath : `${this.auditPath}.${n}`, 'utf8').catch(() => '')
      const lines = text.split('\n').filter((line) => line !== '').reverse()
      for (const line of lines) {
        try { newestFirst.push(JSON.parse(line) as AuditEntry) } catch { /* a torn last line after a crash */ }
      }
    }
    return newestFirst.slice(skip, skip + limit).reverse()
  }
}
