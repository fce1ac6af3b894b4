import { link, mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { randomBytes } from 'node:crypto'
import { DmsError } from './errors.js'

/** Data dirs a node of this process holds: a second node in the same process is refused too. */
const heldHere = new Set<string>()

/**
 * The data dir's `lock` file, holding the pid of the node that runs on it. Two
 * nodes on one data dir would run with one peer id and overwrite each other's
 * swarm and VPN state. The file is created whole (written aside, then hard-linked
 * into place, which fails if it exists); a lock whose process is gone (SIGKILL,
 * a crash) is stale and taken over.
 */
export class DataDirLock {
  private readonly dir: string
  private readonly path: string
  private held = false

  constructor (dataDir: string) {
    this.dir = resolve(dataDir)
    this.path = join(this.dir, 'lock')
  }

  /** Take the lock, or throw DATA_DIR_LOCKED naming the holder. */
  async acquire (): Promise<void> {
    if (this.held) return
    if (heldHere.has(this.dir)) throw new DmsError('DATA_DIR_LOCKED', `data dir ${this.dir} is in use by another node of this process`)
    heldHere.add(this.dir)
    try {
      await mkdir(this.dir, { recursive: true, mode: 0o700 })
      for (let attempt = 0; attempt < 3; attempt++) {
        if (await this.create()) { this.held = true; return }
        const holder = await this.holder()
        if (holder != null && holder !== process.pid && isAlive(holder)) {
          throw new DmsError('DATA_DIR_LOCKED', `data dir ${this.dir} is in use by pid ${holder} (${this.path}): stop that node, or use another data dir`)
        }
        await this.removeStale(holder)
      }
      throw new DmsError('DATA_DIR_LOCKED', `could not take ${this.path}`)
    } catch (err) {
      heldHere.delete(this.dir)
      if (err instanceof DmsError) throw err
      throw new DmsError('DATA_DIR_UNUSABLE', `cannot lock data dir ${this.dir}: ${(err as Error).message}`, { cause: err })
    }
  }

  /** Give the lock up (the node stopped). */
  async release (): Promise<void> {
    if (!this.held) return
    this.held = false
    heldHere.delete(this.dir)
    // only our own: a lock another process took over meanwhile stays
    if (await this.holder() === process.pid) await unlink(this.path).catch(() => { /* already gone: nothing to release */ })
  }

  /** Create the lock file with our pid, whole; false when one exists. */
  private async create (): Promise<boolean> {
    const aside = join(this.dir, `.lock.${randomBytes(6).toString('hex')}`)
    await writeFile(aside, `${process.pid}\n`, { mode: 0o600 })
    try {
      await link(aside, this.path)
      return true
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false
      throw err
    } finally {
      await unlink(aside).catch(() => { /* the aside file is ours; a leftover is harmless */ })
    }
  }

  private async holder (): Promise<number | undefined> {
    try {
      const pid = Number.parseInt(await readFile(this.path, 'utf8'), 10)
      return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined
    } catch {
      return undefined
    }
  }

  /** Move a stale lock aside and delete it, unless it changed hands meanwhile (then put it back). */
  private async removeStale (stalePid: number | undefined): Promise<void> {
    const aside = join(this.dir, `.lock.stale.${randomBytes(6).toString('hex')}`)
    try {
      await rename(this.path, aside)
    } catch {
      return
    }
    const moved = Number.parseInt(await readFile(aside, 'utf8').catch(() => ''), 10)
    if (stalePid != null && moved !== stalePid && isAlive(moved)) await link(aside, this.path).catch(() => { /* another node took it: it holds the lock */ })
    await unlink(aside).catch(() => { /* gone already */ })
  }
}

/** Whether a process with this pid runs (EPERM: it runs, as another user). */
function isAlive (pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}
