import { readFile, rm, appendFile, open, mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { writeFileAtomic } from '../atomic-file.js'
import { readSwarmKeyFile, writeSwarmKeyFile } from './key-file.js'

/** What survives a restart, besides the key (kept in swarm.key, Kubo format). */
export interface SwarmState {
  role: 'owner' | 'member'
  network: string
  epoch: number
  /** Owner: the authorised peers. */
  authorised?: string[]
  /** Member: the owner's peer id and public address. */
  owner?: string
  ownerAddress?: string
  /** The owner's private-network addresses. */
  bootstrap: string[]
}

export interface AuditRecord {
  action: 'grant' | 'deny' | 'rotate' | 'revoke' | 'authorise' | 'create' | 'notify-failed'
  peer?: string
  reason?: string
  epoch?: number
  /** Names the key involved; never the key. */
  fingerprint?: string
}

/** The swarm's files in the data dir: state.json and swarm.key (both 0600, atomic), audit.log (append-only). */
export class SwarmStore {
  readonly dir: string
  constructor (dataDir: string) {
    this.dir = join(dataDir, 'swarm')
  }

  get keyPath (): string { return join(this.dir, 'swarm.key') }
  get auditPath (): string { return join(this.dir, 'audit.log') }
  private get statePath (): string { return join(this.dir, 'state.json') }

  async load (): Promise<{ state: SwarmState, key: Uint8Array } | undefined> {
    let text: string
    try {
      text = await readFile(this.statePath, 'utf8')
    } catch {
      return undefined
    }
    let state: SwarmState
    try {
      state = JSON.parse(text) as SwarmState
      if (state.role !== 'owner' && state.role !== 'member') throw new Error('unknown role')
    } catch (err) {
      throw new Error(`${this.statePath} is corrupt (${(err as Error).message}); remove it to forget the swarm`)
    }
    return { state, key: await readSwarmKeyFile(this.keyPath) }
  }

  /** Write the key first, then the state that refers to it. */
  async save (state: SwarmState, key: Uint8Array): Promise<void> {
    await writeSwarmKeyFile(this.keyPath, key)
    await writeFileAtomic(this.statePath, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 })
  }

  async clear (): Promise<void> {
    await rm(this.statePath, { force: true })
    await rm(this.keyPath, { force: true })
  }

  /** Append one line to the audit log and flush it to disk. */
  async audit (record: AuditRecord): Promise<void> {
    const line = `${JSON.stringify({ time: new Date().toISOString(), ...record })}\n`
    await mkdir(this.dir, { recursive: true, mode: 0o700 })
    await appendFile(this.auditPath, line, { mode: 0o600 })
    const handle = await open(this.auditPath, 'r')
    try { await handle.sync() } finally { await handle.close() }
  }

  async auditLog (): Promise<Array<AuditRecord & { time: string }>> {
    const text = await readFile(this.auditPath, 'utf8').catch(() => '')
    return text.split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as AuditRecord & { time: string })
  }
}

