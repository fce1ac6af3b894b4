/**
 * The msgpack values dms-network carries: nil, booleans, numbers, strings, binary,
 * arrays and maps, nested at most `MAX_DEPTH` deep. msgpackr would also decode
 * extensions into BigInt, Date, Error, RegExp, Set or typed arrays, and 64-bit
 * integers into BigInt: values that JSON, the control socket and the inspector
 * cannot print. This check walks the bytes once, before msgpackr sees them, and
 * names the first value outside that set.
 */

/** Containers nested deeper than this are refused: every printer recurses. */
export const MAX_DEPTH = 64

/** What one header says: the bytes up to the next header (-1 when they run past the end), the values it contains, and its kind. */
interface Header { size: number, items: number, kind: 'plain' | 'int64' | 'undefined' | 'extension' | 'reserved' }

/** The msgpack header at `at` (its first byte), read without trusting any length beyond the bytes there. */
function headerAt (bytes: Uint8Array, view: DataView, at: number): Header {
  // no closures here: this runs for every value of every message
  const head = bytes[at]!
  if (head <= 0x7f || head >= 0xe0 || head === 0xc0 || head === 0xc2 || head === 0xc3) return scalar(1)
  if (head <= 0x8f) return { size: 1, items: (head & 0x0f) * 2, kind: 'plain' }
  if (head <= 0x9f) return { size: 1, items: head & 0x0f, kind: 'plain' }
  if (head <= 0xbf) return scalar(1 + (head & 0x1f))
  switch (head) {
    case 0xc4: case 0xd9: return scalar(sized(bytes, view, at, 1, 0))
    case 0xc5: case 0xda: return scalar(sized(bytes, view, at, 2, 0))
    case 0xc6: case 0xdb: return scalar(sized(bytes, view, at, 4, 0))
    case 0xca: return scalar(5)
    case 0xcb: return scalar(9)
    case 0xcc: case 0xd0: return scalar(2)
    case 0xcd: case 0xd1: return scalar(3)
    case 0xce: case 0xd2: return scalar(5)
    case 0xcf: case 0xd3: return { size: 9, items: 0, kind: 'int64' }
    // msgpackr writes `undefined` as the one-byte extension 0 (a map entry whose value is undefined)
    case 0xd4: return { size: 3, items: 0, kind: bytes[at + 1] === 0x00 ? 'undefined' : 'extension' }
    case 0xd5: return { size: 4, items: 0, kind: 'extension' }
    case 0xd6: return { size: 6, items: 0, kind: 'extension' }
    case 0xd7: return { size: 10, items: 0, kind: 'extension' }
    case 0xd8: return { size: 18, items: 0, kind: 'extension' }
    case 0xc7: return { size: sized(bytes, view, at, 1, 1), items: 0, kind: 'extension' }
    case 0xc8: return { size: sized(bytes, view, at, 2, 1), items: 0, kind: 'extension' }
    case 0xc9: return { size: sized(bytes, view, at, 4, 1), items: 0, kind: 'extension' }
    case 0xdc: return counted(bytes, view, at, 2, 1)
    case 0xdd: return counted(bytes, view, at, 4, 1)
    case 0xde: return counted(bytes, view, at, 2, 2)
    case 0xdf: return counted(bytes, view, at, 4, 2)
    default: return { size: 1, items: 0, kind: 'reserved' }
  }
}

const scalar = (size: number): Header => ({ size, items: 0, kind: 'plain' })

/** Header and payload bytes of a str, bin or ext whose length follows the head in `lengthBytes` bytes (-1: past the end). */
function sized (bytes: Uint8Array, view: DataView, at: number, lengthBytes: 1 | 2 | 4, extra: number): number {
  if (at + 1 + lengthBytes > bytes.byteLength) return -1
  const length = lengthBytes === 1 ? bytes[at + 1]! : lengthBytes === 2 ? view.getUint16(at + 1) : view.getUint32(at + 1)
  return 1 + lengthBytes + extra + length
}

/** An array or map whose count follows the head in `lengthBytes` bytes; a map counts keys and values. */
function counted (bytes: Uint8Array, view: DataView, at: number, lengthBytes: 2 | 4, perItem: number): Header {
  if (at + 1 + lengthBytes > bytes.byteLength) return { size: -1, items: 0, kind: 'plain' }
  const count = lengthBytes === 2 ? view.getUint16(at + 1) : view.getUint32(at + 1)
  return { size: 1 + lengthBytes, items: count * perItem, kind: 'plain' }
}

/** Why `bytes` is not one plain msgpack value, or undefined when it is. */
export function plainMsgpackProblem (bytes: Uint8Array, maxDepth = MAX_DEPTH): string | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const end = bytes.byteLength
  // items still to read in each open container (a map counts keys and values), and whether it is a map
  const open: number[] = []
  const openMaps: boolean[] = []
  let inMap = false
  let at = 0
  let values = 1
  while (values > 0) {
    if (at >= end) return 'the value ends early'
    const head = bytes[at]!
    // a map's keys are strings, numbers, booleans or nil: msgpackr cannot make an object key of the rest
    if (inMap && values % 2 === 0 && !isKeyHead(head)) return `a map key that is not a string or a number at byte ${at}`
    const header = headerAt(bytes, view, at)
    if (header.size < 0 || at + header.size > end) return 'the value ends early'
    if (header.kind === 'reserved') return `the reserved byte 0xc1 at byte ${at}`
    if (header.kind === 'extension') return `a msgpack extension${head === 0xd4 ? ` (type ${extensionType(bytes[at + 1])})` : ''} at byte ${at}`
    if (header.kind === 'int64') {
      const big = head === 0xcf ? view.getBigUint64(at + 1) : view.getBigInt64(at + 1)
      if (big > BigInt(Number.MAX_SAFE_INTEGER) || big < -BigInt(Number.MAX_SAFE_INTEGER)) return `an integer beyond ±2^53 (${big.toString()}) at byte ${at}`
    }
    at += header.size
    values--
    if (header.items > 0) {
      // a container cannot hold more items than bytes remain: no count is trusted beyond that
      if (header.items > end - at) return `a container of ${header.items} items in ${end - at} bytes`
      if (open.length >= maxDepth) return `containers nested more than ${maxDepth} deep`
      open.push(values)
      openMaps.push(inMap)
      values = header.items
      inMap = head <= 0x8f || head >= 0xde
    }
    while (values === 0 && open.length > 0) {
      values = open.pop()!
      inMap = openMaps.pop()!
    }
  }
  if (at !== end) return `${end - at} bytes after the value`
  return undefined
}

/**
 * The string values of `names` among the entries of a top-level map, read without decoding anything
 * else: every other value, extensions included, is skipped by the lengths its header gives. For
 * answering a refused envelope by its id. Undefined when the bytes are no map or run past `maxItems`.
 */
export function topLevelStrings (bytes: Uint8Array, names: readonly string[], maxItems = 4096): Record<string, string> | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const head = bytes[0]
  if (head == null) return undefined
  let entries: number
  let at: number
  if (head >= 0x80 && head <= 0x8f) { entries = head & 0x0f; at = 1 } else if (head === 0xde && bytes.byteLength >= 3) { entries = view.getUint16(1); at = 3 } else return undefined
  const found: Record<string, string> = {}
  let budget = maxItems
  for (let i = 0; i < entries; i++) {
    const key = readString(bytes, view, at)
    if (key == null) return undefined
    at = key.end
    const value = readString(bytes, view, at)
    if (value != null && names.includes(key.text)) found[key.text] = value.text
    const next = skipValue(bytes, view, at, () => --budget >= 0)
    if (next < 0) return found
    at = next
  }
  return found
}

function readString (bytes: Uint8Array, view: DataView, at: number): { text: string, end: number } | undefined {
  const head = bytes[at]
  let length: number
  let start: number
  if (head == null) return undefined
  if (head >= 0xa0 && head <= 0xbf) { length = head & 0x1f; start = at + 1 } else if (head === 0xd9 && at + 2 <= bytes.byteLength) { length = bytes[at + 1]!; start = at + 2 } else if (head === 0xda && at + 3 <= bytes.byteLength) { length = view.getUint16(at + 1); start = at + 3 } else return undefined
  if (start + length > bytes.byteLength || length > 256) return undefined
  return { text: new TextDecoder().decode(bytes.subarray(start, start + length)), end: start + length }
}

/** The offset after the value at `at` (containers and extensions skipped whole), or -1; `spend` bounds the values walked. */
function skipValue (bytes: Uint8Array, view: DataView, at: number, spend: () => boolean): number {
  let pending = 1
  while (pending > 0) {
    if (at >= bytes.byteLength || !spend()) return -1
    const header = headerAt(bytes, view, at)
    if (header.size < 0 || header.items > bytes.byteLength - at) return -1
    at += header.size
    pending += header.items - 1
  }
  return at > bytes.byteLength ? -1 : at
}

/** Strings, integers, floats, booleans and nil: what a map key may be. */
const isKeyHead = (head: number): boolean =>
  head <= 0x7f || head >= 0xe0 || (head >= 0xa0 && head <= 0xbf) || (head >= 0xd9 && head <= 0xdb) ||
  (head >= 0xca && head <= 0xd3) || head === 0xc0 || head === 0xc2 || head === 0xc3

const extensionType = (byte: number | undefined): number => byte == null ? -1 : (byte << 24) >> 24
