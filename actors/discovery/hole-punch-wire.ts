/**
 * The messages of `/dms/holepunch/1.1.0` and `/1.0.0`, one JSON object per
 * length-prefixed frame (docs/protocols.md):
 *
 *   initiator → responder  { type: 'connect', address: '11.77.0.101:43706' }  or  { type: 'connect', reason: '…' }
 *   responder → initiator  the same, for the responder
 *   1.0.0, once:  initiator → responder  { type: 'sync' }   (both dial now)
 *   1.1.0, up to 3 attempts:
 *     initiator → responder  { type: 'ping' }   responder → initiator  { type: 'pong' }   (the initiator measures the RTT)
 *     initiator → responder  { type: 'sync' }   (the responder dials on receipt, the initiator RTT/2 after sending)
 *
 * An address is where the sender's next TCP connection will come from, as a STUN
 * server saw it: IPv4 and a port from 1024 up. A `reason` says why the sender
 * cannot take part (a NAT that changes ports, no STUN answer).
 */
import { WireError } from '../wire/envelope.js'
import { isPrivateIp } from '../../machines/reachability-rules.js'
import { safeText } from '../messenger/safe-text.js'

/** Both dial on `sync`, once: the initiator's SYN leaves first (needs routers that drop unsolicited SYNs). */
export const HOLE_PUNCH_PROTOCOL = '/dms/holepunch/1.0.0'
/** Both dial at the same moment, timed by the relayed connection's RTT, retried: routers may reset. */
export const HOLE_PUNCH_PROTOCOL_SYNCED = '/dms/holepunch/1.1.0'

/** A frame is a few dozen bytes; anything longer is refused unread. */
export const MAX_PUNCH_FRAME_BYTES = 512

export type PunchMessage =
  | { type: 'connect', address: string }
  | { type: 'connect', reason: string }
  | { type: 'sync' }
  | { type: 'ping' }
  | { type: 'pong' }

const MAX_REASON_CHARS = 200

export function encodePunch (message: PunchMessage): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(message))
}

/** Parse and check one frame; throws a clear error for anything else. */
export function decodePunch (bytes: Uint8Array): PunchMessage {
  let value: unknown
  try { value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)) } catch { throw new WireError('MALFORMED', 'hole punch frame is not JSON') }
  if (typeof value !== 'object' || value == null || Array.isArray(value)) throw new WireError('MALFORMED', 'hole punch frame is not an object')
  const message = value as Record<string, unknown>
  if ((message.type === 'sync' || message.type === 'ping' || message.type === 'pong') && Object.keys(message).length === 1) return { type: message.type }
  if (message.type === 'connect' && Object.keys(message).length === 2) {
    if (typeof message.address === 'string') {
      if (parsePunchAddress(message.address) == null) throw new WireError('INVALID', `hole punch address is not a public IPv4 host:port (got ${JSON.stringify(message.address.slice(0, 40))})`)
      return { type: 'connect', address: message.address }
    }
    // the reason reaches an operator's terminal: control characters (ANSI escapes, newlines) escaped
    if (typeof message.reason === 'string' && message.reason.length <= MAX_REASON_CHARS) return { type: 'connect', reason: safeText(message.reason, MAX_REASON_CHARS) }
  }
  throw new WireError('INVALID', 'hole punch frame is not a connect, sync, ping or pong message')
}

/**
 * `ip:port` as the peer gave it, or undefined when it is not one a hole punch may
 * dial: a public IPv4 address (no private, loopback, link-local, shared, documentation,
 * multicast or reserved range: a STUN server on the internet never maps to one, and
 * the peer must not steer our SYNs into our own network) and a port from 1024 up
 * (never a well-known service).
 */
export function parsePunchAddress (text: string): { ip: string, port: number } | undefined {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3}):(\d{1,5})$/.exec(text)
  if (match == null) return undefined
  const octets = match.slice(1, 5).map(Number)
  const port = Number(match[5])
  if (octets.some((o) => o > 255) || port < 1024 || port > 65535) return undefined
  const ip = octets.join('.')
  if (isPrivateIp(ip)) return undefined
  return { ip, port }
}
