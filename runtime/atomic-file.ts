import { open, rename, unlink } from 'node:fs/promises'
import { dirname, basename, join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { makeDir } from './make-dir.js'

export interface WriteFileAtomicOptions {
  /** File mode of the written file. @default 0o600 */
  mode?: number
  /** Create the directory (and its parents, 0700) when it is missing. @default true */
  createDir?: boolean
}

/**
 * Write a file so that readers see either the old or the new content, never a
 * torn one, even across a crash: temp file in the same directory, fsync, rename,
 * fsync the directory.
 */
export async function writeFileAtomic (path: string, data: string | Uint8Array, options: WriteFileAtomicOptions = {}): Promise<void> {
  const dir = dirname(path)
  if (options.createDir !== false) await makeDir(dir)
  const temp = join(dir, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`)
  const handle = await open(temp, 'wx', options.mode ?? 0o600)
  try {
    await handle.writeFile(data)
    await handle.sync()
  } catch (err) {
    await handle.close()
    await unlink(temp).catch(() => {}) // the write's error is what the caller gets
    throw err
  }
  await handle.close()
  try {
    await rename(temp, path)
  } catch (err) {
    await unlink(temp).catch(() => {}) // the write's error is what the caller gets
    throw err
  }
  const dirHandle = await open(dir, 'r')
  try { await dirHandle.sync() } finally { await dirHandle.close() }
}
