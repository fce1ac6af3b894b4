import { Packr } from 'msgpackr'
import { validateEnvelope, WireError } from './envelope.js'
import type { Envelope } from './envelope.js'

// Records off: both sides decode what the other wrote with no shared structure table.
const packr = new Packr({ useRecords: false, moreTypes: false, bundleStrings: false, mapsAsObjects: true })

/** msgpackr-encode plain data (no records, no extensions). */
export function encodeValue (value: unknown): Uint8Array {
  return packr.pack(value)
}

/** Decode msgpackr bytes; throws WireError MALFORMED on bytes that are not one valid value. */
export function decodeValue (bytes: Uint8Array): unknown {
  try {
    return packr.unpack(bytes)
  } catch (err) {
    throw new WireError('MALFORMED', `frame is not valid msgpack: ${(err as Error).message}`)
  }
}

export function encodeEnvelope (envelope: Envelope): Uint8Array {
  return encodeValue(envelope)
}

/** Decode and validate one envelope frame. */
export function decodeEnvelope (bytes: Uint8Array): Envelope {
  return validateEnvelope(decodeValue(bytes))
}
