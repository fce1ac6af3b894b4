import { mkdir, stat } from 'node:fs/promises'
import { dirname } from 'node:path'

const codeOf = (err: unknown): string | undefined => (err as NodeJS.ErrnoException).code

/**
 * `mkdir -p` that always ends. Node 20's `mkdir(path, { recursive: true })` never
 * settles where the kernel answers ENOENT for a directory whose parent exists
 * (`/proc/nonexistent/x`): it creates the parent again and again. Here each level is
 * tried at most twice, so such a path fails with the kernel's own error. Every
 * directory created gets `mode`; an existing one is taken only if it is a directory.
 */
export async function makeDir (dir: string, mode = 0o700): Promise<void> {
  try {
    await mkdir(dir, { mode })
    return
  } catch (err) {
    if (codeOf(err) === 'EEXIST') return await mustBeDirectory(dir, err)
    const parent = dirname(dir)
    if (codeOf(err) !== 'ENOENT' || parent === dir) throw err
  }
  await makeDir(dirname(dir), mode)
  try {
    await mkdir(dir, { mode })
  } catch (err) {
    // made by someone else in the meantime: as good as made here
    if (codeOf(err) !== 'EEXIST') throw err
    await mustBeDirectory(dir, err)
  }
}

async function mustBeDirectory (dir: string, err: unknown): Promise<void> {
  if (!(await stat(dir)).isDirectory()) throw err
}
