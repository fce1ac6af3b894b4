import { DmsError } from '../../actors/errors.js'
import type { DmsErrorCode } from '../../actors/errors.js'

/** Codes of every error the private swarm throws to a caller. */
export type SwarmErrorCode = Extract<DmsErrorCode, 'SWARM_BUSY' | 'SWARM_FAILED' | 'NOT_OWNER' | 'NOT_A_MEMBER' | 'NOT_AUTHORISED' | 'KEY_DENIED' | 'BAD_ADDRESS' | 'BAD_PEER_ID'>

/** A DmsError from the private swarm. */
export class SwarmError extends DmsError {
  constructor (code: SwarmErrorCode, message: string) {
    super(code, message)
    this.name = 'SwarmError'
  }
}
