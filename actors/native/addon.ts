import { createRequire } from 'node:module'
import { join } from 'node:path'
import { packageRoot } from './package-root.js'
import { DmsError } from '../errors.js'

const require = createRequire(import.meta.url)

/** The hint every "addon missing" error carries: the command that rebuilds it where it is installed. */
export const REBUILD_HINT = 'npm rebuild dms-network'

/**
 * Load one of the package's N-API addons (`tun`, `xsalsa20`, `aead`): a local build
 * (native/build/Release, from `npm install` or `npm rebuild`) wins over the
 * prebuilt binary shipped for this platform (prebuilds/<platform>-<arch>/).
 * N-API keeps one binary good for every Node version from 20 on.
 */
export function loadAddon<T> (name: 'tun' | 'xsalsa20' | 'aead'): T {
  const candidates = [
    join(packageRoot, 'native', 'build', 'Release', `${name}.node`),
    join(packageRoot, 'prebuilds', `${process.platform}-${process.arch}`, `${name}.node`)
  ]
  const failures: string[] = []
  for (const path of candidates) {
    try {
      return require(path) as T
    } catch (err) {
      failures.push(`${path}: ${((err as Error).message ?? String(err)).split('\n')[0]!}`)
    }
  }
  throw new DmsError('VPN_UNAVAILABLE', `the native addon ${name} is not available for ${process.platform}-${process.arch} (tried ${failures.join('; ')}); rebuild it with: ${REBUILD_HINT}`)
}
