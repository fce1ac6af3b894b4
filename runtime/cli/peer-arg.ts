import { UsageError } from './command.js'
import { call } from './client-call.js'
import { isPeerId } from './arguments.js'
import type { PeerStatus } from '../events.js'
import { readAliases } from './aliases.js'

/**
 * A peer given as its full id, an alias (`dms-net alias set`), a unique prefix of one the node
 * knows (as git takes commits), or the short form `peers` prints (`12D3KooWAb…Xy9z`). Asks the
 * running node only for a prefix.
 */
export async function peerArg (dataDir: string, text: string, what = 'PEER'): Promise<string> {
  if (isPeerId(text)) return text
  const aliases = await readAliases(dataDir)
  if (Object.hasOwn(aliases, text)) return aliases[text]!
  const [prefix, suffix = ''] = text.split('…')
  // a prefix names its kind of key (12D3KooW…, Qm…, 16Uiu2…) and at least one character more
  if (prefix == null || !/^(12D3KooW|Qm|16Uiu2)[1-9A-HJ-NP-Za-km-z]+$/.test(prefix) || !/^[1-9A-HJ-NP-Za-km-z]*$/.test(suffix)) {
    throw new UsageError(`${what} ${JSON.stringify(text.slice(0, 80))} is not a peer id or alias (12D3KooW…: see dms-net peers, dms-net alias)`)
  }
  // no node running: NODE_UNREACHABLE (exit 1), the trouble is not the argument
  const peers = await call<PeerStatus[]>(dataDir, 'peers').catch((err: Error & { code?: string }) => {
    if (err.code === 'NODE_UNREACHABLE') err.message = `${err.message}; it is needed to look up the prefix ${text.slice(0, 60)}`
    throw err
  })
  const known = [...new Set(peers.map((p) => p.peerId))]
  const matches = known.filter((id) => id.startsWith(prefix) && id.endsWith(suffix))
  if (matches.length === 1) return matches[0]!
  if (matches.length === 0) throw new UsageError(`${what} ${text}: no peer this node knows (dms-net peers --full)`)
  throw new UsageError(`${what} ${text} could be any of ${matches.slice(0, 5).join(', ')}${matches.length > 5 ? ', …' : ''}`)
}
