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
