import { DmsError } from '../errors.js'
/** Protocol id of the messenger. */
export const MESSENGER_PROTOCOL = '/dms/msg/1.0.0'

/** Version of the envelope format; a frame with another `v` is refused. */
export const ENVELOPE_VERSION = 1

/**
 * What an envelope is: a one-way message, a request that expects one reply,
 * a reply to a request, or an error answering a request or a message.
 */
export type EnvelopeKind = 'msg' | 'req' | 'res' | 'err'

/** The one wire envelope of the messenger. Plain data only. */
export interface Envelope {
  v: typeof ENVELOPE_VERSION
  /** Unique per sender; replies name it in `re`. */
  id: string
  kind: EnvelopeKind
  /** Message type, e.g. `job.status`; for actor messages `actor.event`. */
  type: string
  /** The sender's peer id as it claims it; receivers replace it with the authenticated one. */
  from: string
  /** Sender's clock, ms since epoch. */
  ts: number
  body: unknown
  /** For `res` and `err`: the id of the envelope answered. */
  re?: string
  /** For actor messages: the systemId of the receiving actor. */
  to?: { actor: string }
}

/** The body of an `err` envelope. */
export interface ErrorBody {
  code: string
  message: string
}

export type WireErrorCode = 'MALFORMED' | 'INVALID' | 'OVERSIZED' | 'STALLED' | 'OVER_BUDGET'

export class WireError extends DmsError {
  declare readonly code: WireErrorCode

  constructor (code: WireErrorCode, message: string) {
    super(code, message)
    this.name = 'WireError'
  }
}

const kinds = new Set<EnvelopeKind>(['msg', 'req', 'res', 'err'])
/** Message types and actor systemIds: the messenger checks them on both sides (MESSAGE_TYPE_PATTERN). */
const typePattern = /^[\w.:/-]{1,128}$/

/** Check a decoded value is an envelope before anything acts on it; throws WireError INVALID naming the field. */
export function validateEnvelope (value: unknown): Envelope {
  if (value == null || typeof value !== 'object' || Array.isArray(value)) throw new WireError('INVALID', 'envelope is not a map')
  const e = value as Record<string, unknown>
  if (e.v !== ENVELOPE_VERSION) throw new WireError('INVALID', `unsupported envelope version ${JSON.stringify(e.v)}`)
  if (typeof e.id !== 'string' || e.id.length === 0 || e.id.length > 64) throw new WireError('INVALID', 'envelope id must be a string of 1-64 characters')
  if (typeof e.kind !== 'string' || !kinds.has(e.kind as EnvelopeKind)) throw new WireError('INVALID', `unknown envelope kind ${JSON.stringify(e.kind)}`)
  if (typeof e.type !== 'string' || !typePattern.test(e.type)) throw new WireError('INVALID', `bad message type ${JSON.stringify(e.type)}`)
  if (typeof e.from !== 'string' || e.from.length > 128) throw new WireError('INVALID', 'envelope from must be a peer id string')
  if (typeof e.ts !== 'number' || !Number.isFinite(e.ts)) throw new WireError('INVALID', 'envelope ts must be a number')
  if ((e.kind === 'res' || e.kind === 'err') && (typeof e.re !== 'string' || e.re.length > 64)) throw new WireError('INVALID', `a ${e.kind} envelope needs re`)
  if (e.to !== undefined) {
    const to = e.to as Record<string, unknown> | null
    if (to == null || typeof to !== 'object' || typeof to.actor !== 'string' || !typePattern.test(to.actor)) throw new WireError('INVALID', 'envelope to.actor must be an actor systemId')
  }
  if (e.kind === 'err') {
    const body = e.body as Record<string, unknown> | null
    if (body == null || typeof body.code !== 'string' || typeof body.message !== 'string') throw new WireError('INVALID', 'an err envelope needs { code, message }')
  }
  return e as unknown as Envelope
}
