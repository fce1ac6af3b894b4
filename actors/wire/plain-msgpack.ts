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
    const head = bytes[at++]!
    // a map's keys are strings, numbers, booleans or nil: msgpackr cannot make an object key of the rest
    if (inMap && values % 2 === 0 && !isKeyHead(head)) return `a map key that is not a string or a number at byte ${at - 1}`
    let skip = 0
    let items = 0
    if (head <= 0x7f || head >= 0xe0 || head === 0xc0 || head === 0xc2 || head === 0xc3) skip = 0
    else if (head <= 0x8f) items = (head & 0x0f) * 2
    else if (head <= 0x9f) items = head & 0x0f
    else if (head <= 0xbf) skip = head & 0x1f
    else {
      switch (head) {
        case 0xc4: case 0xd9: skip = need(1) ? bytes[at]! + 1 : -1; break
        case 0xc5: case 0xda: skip = need(2) ? view.getUint16(at) + 2 : -1; break
        case 0xc6: case 0xdb: skip = need(4) ? view.getUint32(at) + 4 : -1; break
        case 0xca: skip = 4; break
        case 0xcb: skip = 8; break
        case 0xcc: case 0xd0: skip = 1; break
        case 0xcd: case 0xd1: skip = 2; break
        case 0xce: case 0xd2: skip = 4; break
        case 0xcf: case 0xd3: {
          if (!need(8)) return 'the value ends early'
          const big = head === 0xcf ? view.getBigUint64(at) : view.getBigInt64(at)
          if (!Number.isSafeInteger(Number(big)) || big > BigInt(Number.MAX_SAFE_INTEGER) || big < -BigInt(Number.MAX_SAFE_INTEGER)) return `an integer beyond ±2^53 (${big.toString()}) at byte ${at - 1}`
          skip = 8
          break
        }
        // msgpackr writes `undefined` as the one-byte extension 0 (a map entry whose value is undefined)
        case 0xd4: if (bytes[at] === 0x00) { skip = 2; break } return `a msgpack extension (type ${extensionType(bytes[at])}) at byte ${at - 1}`
        case 0xdc: items = need(2) ? view.getUint16(at) : -1; skip = 2; break
        case 0xdd: items = need(4) ? view.getUint32(at) : -1; skip = 4; break
        case 0xde: items = need(2) ? view.getUint16(at) * 2 : -1; skip = 2; break
        case 0xdf: items = need(4) ? view.getUint32(at) * 2 : -1; skip = 4; break
        case 0xc1: return `the reserved byte 0xc1 at byte ${at - 1}`
        // 0xc7-0xc9 and 0xd5-0xd8: extensions
        default: return `a msgpack extension at byte ${at - 1}`
      }
    }
    if (skip < 0 || items < 0) return 'the value ends early'
    at += skip
    if (at > end) return 'the value ends early'
    values--
    if (items > 0) {
      // a container cannot hold more items than bytes remain: no count is trusted beyond that
      if (items > end - at) return `a container of ${items} items in ${end - at} bytes`
      if (open.length >= maxDepth) return `containers nested more than ${maxDepth} deep`
      open.push(values)
      openMaps.push(inMap)
      values = items
      inMap = head <= 0x8f || head >= 0xde
    }
    while (values === 0 && open.length > 0) {
      values = open.pop()!
      inMap = openMaps.pop()!
    }
  }
  if (at !== end) return `${end - at} bytes after the value`
  return undefined

  function need (n: number): boolean { return at + n <= end }
}

/** Strings, integers, floats, booleans and nil: what a map key may be. */
const isKeyHead = (head: number): boolean =>
  head <= 0x7f || head >= 0xe0 || (head >= 0xa0 && head <= 0xbf) || (head >= 0xd9 && head <= 0xdb) ||
  (head >= 0xca && head <= 0xd3) || head === 0xc0 || head === 0xc2 || head === 0xc3

const extensionType = (byte: number | undefined): number => byte == null ? -1 : (byte << 24) >> 24

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

/** The offset after the value at `at` (containers and extensions skipped whole), or -1. */
function skipValue (bytes: Uint8Array, view: DataView, at: number, spend: () => boolean): number {
  const end = bytes.byteLength
  let pending = 1
  while (pending > 0) {
    if (at >= end || !spend()) return -1
    const head = bytes[at++]!
    let skip = 0
    let items = 0
    const u8 = (): number => at < end ? bytes[at]! : -1
    const u16 = (): number => at + 2 <= end ? view.getUint16(at) : -1
    const u32 = (): number => at + 4 <= end ? view.getUint32(at) : -1
    if (head <= 0x7f || head >= 0xe0 || head === 0xc0 || head === 0xc2 || head === 0xc3) skip = 0
    else if (head <= 0x8f) items = (head & 0x0f) * 2
    else if (head <= 0x9f) items = head & 0x0f
    else if (head <= 0xbf) skip = head & 0x1f
    else {
      switch (head) {
        case 0xc4: case 0xd9: skip = u8() < 0 ? -1 : u8() + 1; break
        case 0xc5: case 0xda: skip = u16() < 0 ? -1 : u16() + 2; break
        case 0xc6: case 0xdb: skip = u32() < 0 ? -1 : u32() + 4; break
        case 0xc7: skip = u8() < 0 ? -1 : u8() + 2; break
        case 0xc8: skip = u16() < 0 ? -1 : u16() + 3; break
        case 0xc9: skip = u32() < 0 ? -1 : u32() + 5; break
        case 0xca: skip = 4; break
        case 0xcb: case 0xcf: case 0xd3: skip = 8; break
        case 0xcc: case 0xd0: skip = 1; break
        case 0xcd: case 0xd1: skip = 2; break
        case 0xce: case 0xd2: skip = 4; break
        case 0xd4: skip = 2; break
        case 0xd5: skip = 3; break
        case 0xd6: skip = 5; break
        case 0xd7: skip = 9; break
        case 0xd8: skip = 17; break
        case 0xdc: items = u16(); skip = 2; break
        case 0xdd: items = u32(); skip = 4; break
        case 0xde: items = u16() < 0 ? -1 : u16() * 2; skip = 2; break
        case 0xdf: items = u32() < 0 ? -1 : u32() * 2; skip = 4; break
        default: return -1
      }
    }
    if (skip < 0 || items < 0 || items > end - at) return -1
    at += skip
    pending += items - 1
  }
  return at > end ? -1 : at
}
