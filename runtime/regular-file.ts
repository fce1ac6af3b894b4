import { open, constants } from 'node:fs/promises'

/**
 * Read a file of the data dir, refusing anything but a regular file. `readFile` on a
 * FIFO waits for a writer forever (a node started on such a data dir hung before it
 * printed a word); opened without blocking, the FIFO is seen for what it is. Errors
 * keep their codes (ENOENT for a missing file); a FIFO, device or directory is EINVAL.
 */
export async function readRegularFile (path: string): Promise<Buffer>
export async function readRegularFile (path: string, encoding: 'utf8'): Promise<string>
export async function readRegularFile (path: string, encoding?: 'utf8'): Promise<Buffer | string> {
  const handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK)
  try {
    if (!(await handle.stat()).isFile()) {
      throw Object.assign(new Error(`${path} is not a regular file (a FIFO, a device or a directory)`), { code: 'EINVAL' })
    }
    return encoding != null ? await handle.readFile(encoding) : await handle.readFile()
  } finally {
    await handle.close()
  }
}
