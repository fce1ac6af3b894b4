import { readFileSync } from 'node:fs'
import { link, rename, unlink, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { randomBytes } from 'node:crypto'
import { DmsError } from './errors.js'
import { makeDir } from './make-dir.js'
import { readRegularFile } from './regular-file.js'

/** Data dirs a node of this process holds: a second node in the same process is refused too. */
const heldHere = new Set<string>()

/**
 * The data dir's `lock` file, holding the pid of the node that runs on it and,
 * on Linux, that process's start time. Two nodes on one data dir would run with
 * one peer id and overwrite each other's swarm and VPN state. The file is created
 * whole (written aside, then hard-linked into place, which fails if it exists); a
 * lock whose process is gone (SIGKILL, a crash) is stale and taken over, and so is
 * one whose pid now belongs to a process that started at another time (the pid was
 * reused: a container restarted, the host rebooted).
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
      await makeDir(this.dir)
      for (let attempt = 0; attempt < 3; attempt++) {
        if (await this.create()) { this.held = true; return }
        const holder = await this.holder()
        if (holder != null && holder.pid !== process.pid && isRunning(holder)) {
          throw new DmsError('DATA_DIR_LOCKED', `data dir ${this.dir} is in use by pid ${holder.pid} (${this.path}): stop that node, or use another data dir`)
        }
        await this.removeStale(holder?.pid)
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
    if ((await this.holder())?.pid === process.pid) await unlink(this.path).catch(() => { /* already gone: nothing to release */ })
  }

  /** Create the lock file with our pid, whole; false when one exists. */
  private async create (): Promise<boolean> {
    const aside = join(this.dir, `.lock.${randomBytes(6).toString('hex')}`)
    await writeFile(aside, `${process.pid}${ownStart != null ? ` ${ownStart}` : ''}\n`, { mode: 0o600 })
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

  private async holder (): Promise<LockHolder | undefined> {
    try {
      return parseHolder(await readRegularFile(this.path, 'utf8'))
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
    // what was moved is not the stale lock when another node took it over meanwhile (or, with no
    // stale pid, created it after ours was found missing): a running holder gets it back
    const moved = parseHolder(await readRegularFile(aside, 'utf8').catch(() => ''))
    if (moved != null && moved.pid !== stalePid && isRunning(moved)) await link(aside, this.path).catch(() => { /* another node took it: it holds the lock */ })
    await unlink(aside).catch(() => { /* gone already */ })
  }
}

/** What a lock file says: the pid, and the start time when the holder wrote one (older versions did not). */
export interface LockHolder { pid: number, start?: string }

export function parseHolder (text: string): LockHolder | undefined {
  const [pidText, start] = text.trim().split(/\s+/)
  const pid = Number.parseInt(pidText ?? '', 10)
  if (!Number.isSafeInteger(pid) || pid <= 0) return undefined
  return start != null && /^\d{1,20}$/.test(start) ? { pid, start } : { pid }
}

/**
 * A process's start time, in clock ticks since boot (field 22 of /proc/PID/stat), or undefined
 * where there is no /proc. The command name (field 2) may hold spaces and parentheses, so the
 * fields are counted from its closing parenthesis.
 */
export function processStart (pid: number): string | undefined {
  try {
    return startTimeOf(readFileSync(`/proc/${pid}/stat`, 'utf8'))
  } catch {
    return undefined
  }
}

/** Field 22 of a /proc/PID/stat line: counted from the command's closing parenthesis (field 2). */
export function startTimeOf (stat: string): string | undefined {
  const field = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]
  return field != null && /^\d+$/.test(field) ? field : undefined
}

const ownStart = processStart(process.pid)

/** Whether the lock's holder still runs: its pid is alive and, when both are known, started when the lock says. */
function isRunning (holder: LockHolder): boolean {
  if (!isAlive(holder.pid)) return false
  if (holder.start == null) return true
  const start = processStart(holder.pid)
  return start == null || start === holder.start
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
