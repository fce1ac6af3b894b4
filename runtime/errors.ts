/**
 * Every error the runtime reports to a user carries a stable `code` (for programs)
 * and a message written for people. Low-level causes stay on `cause`.
 */
export type DmsErrorCode =
  | 'CONFIG_INVALID'
  | 'DATA_DIR_UNUSABLE'
  | 'IDENTITY_UNREADABLE'
  | 'HOST_START_FAILED'
  | 'HOST_NOT_RUNNING'
  | 'HOST_BUSY'
  | 'ADDRESS_IN_USE'
  | 'DIAL_FAILED'
  | 'LISTEN_FAILED'
  | 'BAD_ADDRESS'
  | 'BAD_PEER_ID'
  | 'PING_FAILED'
  | 'TIMEOUT'
  | 'NODE_UNREACHABLE'

export class DmsError extends Error {
  readonly code: DmsErrorCode

  constructor (code: DmsErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'DmsError'
    this.code = code
  }
}

/** A short, user-facing description of any thrown value. */
export function describeError (err: unknown): string {
  if (err instanceof Error) return err.message
  return String(err)
}
