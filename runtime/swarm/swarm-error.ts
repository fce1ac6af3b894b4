/** Codes of every error the private swarm throws to a caller. */
export type SwarmErrorCode = 'SWARM_BUSY' | 'SWARM_FAILED' | 'NOT_OWNER' | 'NOT_A_MEMBER' | 'NOT_AUTHORISED' | 'KEY_DENIED' | 'BAD_ADDRESS' | 'BAD_PEER_ID'

export class SwarmError extends Error {
  constructor (readonly code: SwarmErrorCode, message: string) {
    super(message)
    this.name = 'SwarmError'
  }
}
