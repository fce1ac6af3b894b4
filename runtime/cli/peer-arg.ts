import { UsageError } from './command.js'
import { call } from './client-call.js'
import { isPeerId } from './arguments.js'
import type { PeerStatus } from '../events.js'

/**
 * A peer given as its full id, a unique prefix of one the node knows (as git takes commits),
 * or the short form `peers` prints (`12D3KooWAb…Xy9z`). Asks the running node only when the
 * text is not a whole peer id.
 */
export async function peerArg (dataDir: string, text: string, what = 'PEER'): Promise<string> {
  if (isPeerId(text)) return text
  const [prefix, suffix = ''] = text.split('…')
  // a prefix names its kind of key (12D3KooW…, Qm…, 16Uiu2…) and at least one character more
  if (prefix == null || !/^(12D3KooW|Qm|16Uiu2)[1-9A-HJ-NP-Za-km-z]+$/.test(prefix) || !/^[1-9A-HJ-NP-Za-km-z]*$/.test(suffix)) {
    throw new UsageError(`${what} ${JSON.stringify(text.slice(0, 80))} is not a peer id, nor a prefix of one (peer ids look like 12D3KooW… and come from dms-net id or dms-net peers)`)
  }
  const peers = await call<PeerStatus[]>(dataDir, 'peers').catch((err: { code?: string }) => {
    if (err?.code !== 'NODE_UNREACHABLE') throw err
    throw new UsageError(`${what} ${JSON.stringify(text.slice(0, 80))} is not a peer id (a prefix is looked up on the running node, and none runs on this data dir)`)
  })
  const known = [...new Set(peers.map((p) => p.peerId))]
  const matches = known.filter((id) => id.startsWith(prefix) && id.endsWith(suffix))
  if (matches.length === 1) return matches[0]!
  if (matches.length === 0) throw new UsageError(`${what} ${text}: no peer this node knows starts so (dms-net peers --full lists them)`)
  throw new UsageError(`${what} ${text} could be any of ${matches.length} peers: ${matches.slice(0, 5).join(', ')}${matches.length > 5 ? ', …' : ''}; give more of it`)
}
