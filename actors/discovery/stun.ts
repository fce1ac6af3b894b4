import { connect } from 'node:net'
import type { Socket } from 'node:net'
import { randomBytes } from 'node:crypto'
import { DmsError } from '../errors.js'

/**
 * A STUN Binding request over TCP (RFC 8489): from a local TCP port, ask a STUN
 * server which address and port the connection arrives from. Behind a NAT that
 * keeps ports (Linux masquerade, most home routers) the mapped port is the local
 * one; behind a NAT that picks ports at random (a "symmetric" NAT) it is not,
 * and no address can be predicted for a hole punch.
 */
export interface StunMapping {
  /** The local port the request left from (the OS picked it). */
  localPort: number
  /** The address and port the server saw. */
  mappedIp: string
  mappedPort: number
}

const MAGIC_COOKIE = 0x2112a442
const BINDING_REQUEST = 0x0001
const BINDING_SUCCESS = 0x0101
const ATTR_MAPPED_ADDRESS = 0x0001
const ATTR_XOR_MAPPED_ADDRESS = 0x0020
const HEADER_BYTES = 20
/** A Binding response is a few dozen bytes; anything longer is not one. */
const MAX_RESPONSE_BYTES = 1024

/** `host:port` of a STUN server, as `--stun` takes it. */
export function parseStunServer (text: string): { host: string, port: number } {
  const match = /^([0-9a-zA-Z.-]+):(\d{1,5})$/.exec(text)
  const port = match == null ? NaN : Number(match[2])
  if (match == null || port < 1 || port > 65535) throw new DmsError('CONFIG_INVALID', `a STUN server is host:port, e.g. 203.0.113.9:3478 (got "${text}")`)
  return { host: match[1]!, port }
}

/** Ask `server` for this host's mapped address, from a fresh local port. Rejects on timeout or a bad answer. */
export async function stunMapping (server: { host: string, port: number }, timeoutMs: number): Promise<StunMapping> {
  const transaction = randomBytes(12)
  const socket = connect({ host: server.host, port: server.port })
  try {
    const response = await exchange(socket, bindingRequest(transaction), timeoutMs)
    const mapped = parseBindingResponse(response, transaction)
    return { localPort: socket.localPort!, mappedIp: mapped.ip, mappedPort: mapped.port }
  } finally {
    // a reset, not a close: no TIME_WAIT holds the port the hole punch is about to reuse
    socket.resetAndDestroy()
  }
}

function bindingRequest (transaction: Buffer): Buffer {
  const header = Buffer.alloc(HEADER_BYTES)
  header.writeUInt16BE(BINDING_REQUEST, 0)
  header.writeUInt16BE(0, 2)
  header.writeUInt32BE(MAGIC_COOKIE, 4)
  transaction.copy(header, 8)
  return header
}

async function exchange (socket: Socket, request: Buffer, timeoutMs: number): Promise<Buffer> {
  return await new Promise((resolve, reject) => {
    let received = Buffer.alloc(0)
    const timer = setTimeout(() => { finish(new DmsError('STUN_FAILED', `no STUN answer within ${timeoutMs} ms`)) }, timeoutMs)
    const finish = (err: Error | null, response?: Buffer): void => {
      clearTimeout(timer)
      socket.removeAllListeners('data')
      socket.removeAllListeners('error')
      socket.on('error', () => {})
      if (err != null) reject(err)
      else resolve(response!)
    }
    socket.on('error', (err) => { finish(new DmsError('STUN_FAILED', `STUN server unreachable: ${err.message}`)) })
    socket.on('connect', () => { socket.write(request) })
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk])
      if (received.length < HEADER_BYTES) return
      const total = HEADER_BYTES + received.readUInt16BE(2)
      if (total > MAX_RESPONSE_BYTES) finish(new DmsError('STUN_FAILED', 'STUN answer too long'))
      else if (received.length >= total) finish(null, received.subarray(0, total))
    })
  })
}

/** The mapped address in a Binding success response for `transaction`. */
export function parseBindingResponse (message: Buffer, transaction: Buffer): { ip: string, port: number } {
  if (message.length < HEADER_BYTES || message.readUInt16BE(0) !== BINDING_SUCCESS || message.readUInt32BE(4) !== MAGIC_COOKIE) throw new DmsError('STUN_FAILED', 'not a STUN Binding success response')
  if (!message.subarray(8, 20).equals(transaction)) throw new DmsError('STUN_FAILED', 'STUN answer for another request')
  let plain: { ip: string, port: number } | undefined
  for (let at = HEADER_BYTES; at + 4 <= message.length;) {
    const type = message.readUInt16BE(at)
    const length = message.readUInt16BE(at + 2)
    const value = message.subarray(at + 4, at + 4 + length)
    if (value.length === length && length >= 8 && value[1] === 0x01) {
      if (type === ATTR_XOR_MAPPED_ADDRESS) {
        const port = value.readUInt16BE(2) ^ (MAGIC_COOKIE >>> 16)
        const ip = (value.readUInt32BE(4) ^ MAGIC_COOKIE) >>> 0
        return { ip: [ip >>> 24, (ip >>> 16) & 255, (ip >>> 8) & 255, ip & 255].join('.'), port }
      }
      if (type === ATTR_MAPPED_ADDRESS) plain = { ip: [...value.subarray(4, 8)].join('.'), port: value.readUInt16BE(2) }
    }
    at += 4 + Math.ceil(length / 4) * 4
  }
  if (plain != null) return plain
  throw new DmsError('STUN_FAILED', 'STUN answer without a mapped IPv4 address')
}
