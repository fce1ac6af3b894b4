import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { DmsError } from '../errors.js'

/**
 * The directory of dms-network's package.json: the same from the TypeScript
 * sources (`actors/native/`) and from the compiled output (`dist/actors/native/`).
 */
export const packageRoot: string = (() => {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (;;) {
    try {
      if ((JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string }).name === 'dms-network') return dir
    } catch { /* no package.json here */ }
    const parent = dirname(dir)
    if (parent === dir) throw new DmsError('FEATURE_FAILED', 'dms-network: cannot find the package directory')
    dir = parent
  }
})()
