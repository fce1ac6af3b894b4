import { peerIdFromString } from '@libp2p/peer-id'
import type { PeerId } from '@libp2p/interface'
import { DmsError } from './errors.js'

/** Parse a peer id given by a user or a caller; a BAD_PEER_ID error with a hint otherwise. */
export function parsePeerId (text: unknown): PeerId {
  if (typeof text === 'string' && text !== '') {
    try {
      return peerIdFromString(text)
    } catch { /* reported below */ }
  }
  throw new DmsError('BAD_PEER_ID', `not a peer id: ${JSON.stringify(text)?.slice(0, 80)} (peer ids look like 12D3KooW… — see dms-net id)`)
}

/** Peer ids already parsed once: checking a known one costs a Set lookup, not a base58 decode per message. */
const known = new Set<string>()
const KNOWN_MAX = 4096

/** Throw BAD_PEER_ID unless `text` is a peer id (cached: called on every send and request). */
export function checkPeerId (text: unknown): void {
  if (typeof text === 'string' && known.has(text)) return
  parsePeerId(text)
  if (known.size >= KNOWN_MAX) known.clear()
  known.add(text as string)
}
