import { decodeEnvelope, encodeEnvelope } from '../wire/codec.js'
import { ENVELOPE_VERSION, WireError } from '../wire/envelope.js'
import type { Envelope, EnvelopeKind } from '../wire/envelope.js'
import { MessageError } from './messenger-types.js'
import { RandomIds } from './random-ids.js'

/**
 * A messenger's envelopes: built with fresh ids, encoded within the frame limit,
 * and, for messages to itself, carried through the codec as a peer would receive
 * them, so the same values survive and the same errors appear.
 */
export class Envelopes {
  private readonly ids = new RandomIds()

  constructor (readonly maxFrameBytes: number) {}

  create (kind: EnvelopeKind, type: string, body: unknown, to?: { actor: string }, re?: string): Envelope {
    // receivers take the sender from the authenticated connection, never from `from`: nothing to send.
    // One literal per shape (no spreads): a message's envelope is built on every send and reply.
    const envelope: Envelope = { v: ENVELOPE_VERSION, id: this.ids.next(), kind, type, from: '', ts: Date.now(), body }
    if (re != null) envelope.re = re
    if (to != null) envelope.to = to
    return envelope
  }

  /** The frame payload of `envelope`; INVALID for a body the wire does not carry, OVERSIZED past the limit. */
  encode (envelope: Envelope): Uint8Array {
    let bytes: Uint8Array
    try {
      bytes = encodeEnvelope(envelope)
    } catch (err) {
      throw new MessageError(err instanceof WireError ? 'INVALID' : 'SEND_FAILED', `cannot encode ${envelope.type}: ${(err as Error).message}`)
    }
    if (bytes.byteLength > this.maxFrameBytes) {
      // (the frame header adds at most 5 bytes, which the receiver's limit does not count)
      throw new MessageError('OVERSIZED', `${envelope.type} is ${bytes.byteLength} bytes; the limit is ${this.maxFrameBytes}`)
    }
    return bytes
  }

  /** An envelope this node addressed to itself, as a peer would receive it: decoded, from itself. */
  arrived (bytes: Uint8Array, self: string): Envelope {
    const envelope = decodeEnvelope(bytes)
    envelope.from = self
    return envelope
  }

  /** The reply to a request to self, carried through the codec as a remote reply is. */
  replyBody (request: Envelope, value: unknown): unknown {
    return decodeEnvelope(this.encode(this.create('res', request.type, value, undefined, request.id))).body
  }
}
