/**
 * Every error dms-network throws to a user carries a stable `code` from this one
 * union (for programs) and a message written for people. Low-level causes stay
 * on `cause`. Code that handles an error branches on `code`, never on the text.
 */
export const DMS_ERROR_CODES = [
  // configuration, identity, data directory
  'CONFIG_INVALID', 'DATA_DIR_UNUSABLE', 'DATA_DIR_LOCKED', 'IDENTITY_UNREADABLE', 'STATE_CORRUPT',
  // hosts
  'HOST_START_FAILED', 'HOST_NOT_RUNNING', 'HOST_BUSY', 'ADDRESS_IN_USE', 'DIAL_FAILED', 'LISTEN_FAILED',
  'BAD_ADDRESS', 'BAD_PEER_ID', 'NOT_CONNECTED', 'PING_FAILED', 'TIMEOUT', 'NODE_UNREACHABLE',
  // feature actors
  'FEATURE_RUNNING', 'FEATURE_FAILED', 'FEATURE_TOO_LATE',
  // messenger and wire
  'REMOTE_ERROR', 'ABORTED', 'UNKNOWN_TYPE', 'ACTOR_REFUSED', 'OVERSIZED', 'NOT_ATTACHED', 'SEND_FAILED', 'HANDLER_TAKEN',
  'MALFORMED', 'INVALID', 'STALLED', 'OVER_BUDGET', 'BAD_JOB', 'HANDLER_FAILED', 'FORGED_REPLY',
  // discovery
  'STUN_FAILED', 'RATE_LIMITED',
  // private swarm
  'SWARM_BUSY', 'SWARM_FAILED', 'NOT_OWNER', 'NOT_A_MEMBER', 'NOT_AUTHORISED', 'KEY_DENIED', 'SWARM_KEY_INVALID',
  // VPN
  'VPN_UNAVAILABLE', 'VPN_BUSY', 'VPN_NOT_LEADER', 'VPN_NOT_RUNNING', 'VPN_FULL', 'VPN_BAD_MEMBER', 'VPN_REFUSED', 'VPN_BAD_TABLE', 'VPN_NOT_A_MEMBER', 'VPN_BAD_NAME', 'VPN_BAD_PORT', 'VPN_PORT_IN_USE', 'VPN_BAD_RULE',
  // the CLI, the control socket and the tools they run
  'USAGE', 'CONTROL_FAILED', 'BAD_REQUEST', 'UNKNOWN_METHOD', 'TYPE_TAKEN', 'NO_REPLY', 'COMMAND_FAILED', 'INSPECTOR_FAILED'
] as const

export type DmsErrorCode = typeof DMS_ERROR_CODES[number]

const knownCodes = new Set<string>(DMS_ERROR_CODES)
export const isDmsErrorCode = (code: unknown): code is DmsErrorCode => typeof code === 'string' && knownCodes.has(code)

export class DmsError extends Error {
  readonly code: DmsErrorCode

  constructor (code: DmsErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'DmsError'
    this.code = code
  }
}

/** The code of any thrown value: a DmsError's own, or undefined for anything else. */
export const errorCode = (err: unknown): DmsErrorCode | undefined => err instanceof DmsError ? err.code : undefined

/** A short, user-facing description of any thrown value. */
export function describeError (err: unknown): string {
  if (err instanceof Error) return err.message
  return String(err)
}
