/**
 * Turns anything an actor holds into plain, bounded JSON for an inspector: live
 * objects (libp2p nodes, streams, actor refs) become short tags, bytes become a
 * length, and any field whose name looks secret is redacted. Only plain objects,
 * arrays and primitives are walked, so a private key inside a libp2p object is
 * never reached.
 */
const SECRET_NAME = /key|psk|secret|seed|password|token|signature|sealed|private/i
const MAX_DEPTH = 6
const MAX_ITEMS = 100
const MAX_STRING = 1000

export function sanitize (value: unknown, depth = 0, name = ''): unknown {
  if (name !== '' && SECRET_NAME.test(name) && value != null && typeof value !== 'boolean' && typeof value !== 'number') return '<redacted>'
  if (value == null || typeof value === 'boolean' || typeof value === 'number') return value
  if (typeof value === 'string') return value.length > MAX_STRING ? `${value.slice(0, MAX_STRING)}…` : value
  if (typeof value === 'bigint') return value.toString()
  if (typeof value === 'function' || typeof value === 'symbol') return undefined
  if (value instanceof Uint8Array) return `<${value.byteLength} bytes>`
  if (depth >= MAX_DEPTH) return '<…>'
  if (Array.isArray(value)) {
    const items = value.slice(0, MAX_ITEMS).map((item) => sanitize(item, depth + 1))
    return value.length > MAX_ITEMS ? [...items, `<${value.length - MAX_ITEMS} more>`] : items
  }
  const ref = value as { id?: unknown, sessionId?: unknown, send?: unknown }
  if (typeof ref.sessionId === 'string' && typeof ref.send === 'function') return { actorRef: typeof ref.id === 'string' ? ref.id : ref.sessionId }
  const proto = Object.getPrototypeOf(value)
  if (proto !== Object.prototype && proto !== null) {
    return `<${(value as object).constructor?.name ?? 'object'}>`
  }
  const out: Record<string, unknown> = {}
  for (const [key, item] of Object.entries(value as Record<string, unknown>).slice(0, MAX_ITEMS)) {
    const clean = sanitize(item, depth + 1, key)
    if (clean !== undefined) out[key] = clean
  }
  return out
}

/** A state value (`'running'`, `{ public: 'online', private: 'absent' }`): state names only, so nothing is redacted. */
export function stateValue (value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return value.slice(0, 200)
  if (typeof value !== 'object' || value == null || depth >= MAX_DEPTH || Object.getPrototypeOf(value) !== Object.prototype) return undefined
  return Object.fromEntries(Object.entries(value as Record<string, unknown>).slice(0, MAX_ITEMS).map(([key, item]) => [key.slice(0, 200), stateValue(item, depth + 1)]))
}
