import { Packr } from 'msgpackr'
import { validateEnvelope, WireError } from './envelope.js'
import type { Envelope } from './envelope.js'
import { plainMsgpackProblem, topLevelStrings } from './plain-msgpack.js'

// Records off: both sides decode what the other wrote with no shared structure table.
// 64-bit integers read as numbers: plainMsgpackProblem has refused those beyond ±2^53.
const packr = new Packr({ useRecords: false, moreTypes: false, bundleStrings: false, mapsAsObjects: true, int64AsType: 'number' })

/**
 * msgpackr-encode plain data. Throws WireError INVALID for a value the receiver
 * would refuse (a BigInt beyond ±2^53, a Date, anything msgpackr writes as an extension):
 * what one node sends, every node reads.
 */
export function encodeValue (value: unknown): Uint8Array {
  let bytes: Uint8Array
  try {
    bytes = packr.pack(value)
  } catch (err) {
    throw new WireError('INVALID', `cannot encode the value: ${(err as Error).message}`)
  }
  const problem = plainMsgpackProblem(bytes)
  if (problem != null) throw new WireError('INVALID', `cannot send ${problem}: only nil, booleans, numbers, strings, bytes, arrays and maps travel`)
  return bytes
}

/** Decode plain msgpack bytes; throws WireError MALFORMED on bytes that are not one plain value (see plain-msgpack.ts). */
export function decodeValue (bytes: Uint8Array): unknown {
  const problem = plainMsgpackProblem(bytes)
  if (problem != null) throw new WireError('MALFORMED', `frame is not plain msgpack: ${problem}`)
  try {
    return packr.unpack(bytes)
  } catch (err) {
    throw new WireError('MALFORMED', `frame is not valid msgpack: ${(err as Error).message}`)
  }
}

export function encodeEnvelope (envelope: Envelope): Uint8Array {
  return encodeValue(envelope)
}

/**
 * The id and kind of a refused envelope, when they can be read, so the sender's request gets an error
 * reply. Read from the top-level map alone: nothing else of a refused frame is decoded.
 */
export function envelopeHeadOf (bytes: Uint8Array): { id: string, kind: string } | undefined {
  const head = topLevelStrings(bytes, ['id', 'kind'])
  if (head?.id == null || head.kind == null || head.id.length === 0 || head.id.length > 64) return undefined
  return { id: head.id, kind: head.kind }
}

/** Decode and validate one envelope frame. */
export function decodeEnvelope (bytes: Uint8Array): Envelope {
  return validateEnvelope(decodeValue(bytes))
}
