import { createSocket } from 'node:dgram'
import { createServer } from 'node:net'
import type { Socket } from 'node:net'
import { answerQuery } from './dns-answer.js'
import type { DnsOutcome, Lookup } from './dns-answer.js'
import { RateLimiter } from '../rate-limit.js'
import { log, traced } from '../log.js'

export type DnsCounts = Record<DnsOutcome | 'limited', number>

export interface DnsServer {
  readonly counts: DnsCounts
  close: () => Promise<void>
}

/** Queries one source address may ask per second (and in a burst): a flood from one member is cut, the others are served. */
const PER_SECOND = 200
const BURST = 400
/** A TCP client must send its query within this long; at most this many TCP clients at once. */
const TCP_IDLE_MS = 5000
const MAX_TCP_CLIENTS = 64
/** Answers a TCP client may leave unread before it is cut. */
const MAX_TCP_UNREAD_BYTES = 64 * 1024
/** The longest a TCP client may stay, however busy. */
const TCP_LIFETIME_MS = 60_000

/**
 * The subnet's name server on one member: UDP and TCP port 53 on its VPN
 * address only (never on another interface), answering from `lookup`.
 */
export async function startDnsServer (init: { ip: string, port?: number, lookup: (name: string) => Lookup }): Promise<DnsServer> {
  const port = init.port ?? 53
  const counts: DnsCounts = { answered: 0, nodata: 0, nxdomain: 0, refused: 0, malformed: 0, notimp: 0, limited: 0 }
  const limiter = new RateLimiter({ perSecond: PER_SECOND, burst: BURST }, 4096)
  const answer = (query: Uint8Array, from: string): Uint8Array | undefined => {
    if (!limiter.take(from)) { counts.limited++; return undefined }
    const { reply, outcome } = answerQuery(query, init.lookup)
    counts[outcome]++
    return reply
  }

  const udp = createSocket({ type: 'udp4' })
  udp.on('message', (query, remote) => {
    const reply = answer(query, remote.address)
    if (reply != null) udp.send(reply, remote.port, remote.address)
  })
  udp.on('error', (err) => { log.vpn.error('DNS on %s:%d: %s', init.ip, port, err.message) })

  const clients = new Set<Socket>()
  const tcp = createServer((socket) => {
    if (clients.size >= MAX_TCP_CLIENTS) { socket.destroy(); counts.limited++; return }
    clients.add(socket)
    socket.setTimeout(TCP_IDLE_MS, () => { socket.destroy() })
    // idle resets with every chunk: a connection also ends after this long in all
    const lifetime = setTimeout(() => { socket.destroy() }, TCP_LIFETIME_MS)
    lifetime.unref()
    socket.on('close', () => { clients.delete(socket); clearTimeout(lifetime) })
    socket.on('error', traced(log.vpn, 'a DNS TCP client'))
    let buffered = Buffer.alloc(0)
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk])
      // each query is prefixed by its 2-byte length (RFC 1035 4.2.2)
      while (buffered.length >= 2) {
        const length = buffered.readUInt16BE(0)
        if (length > 512) { socket.destroy(); counts.malformed++; return }
        if (buffered.length < 2 + length) return
        const reply = answer(buffered.subarray(2, 2 + length), socket.remoteAddress ?? '?')
        buffered = buffered.subarray(2 + length)
        if (reply == null) continue
        const framed = Buffer.alloc(2 + reply.byteLength)
        framed.writeUInt16BE(reply.byteLength, 0)
        framed.set(reply, 2)
        socket.write(framed)
        // a client that sends and never reads: its unread answers would pile up here without end
        if (socket.writableLength > MAX_TCP_UNREAD_BYTES) { socket.destroy(); counts.limited++; return }
      }
    })
  })

  await new Promise<void>((resolve, reject) => {
    const failed = (err: Error): void => { udp.close(); reject(err) }
    udp.once('error', failed)
    udp.bind(port, init.ip, () => { udp.off('error', failed); resolve() })
  })
  await new Promise<void>((resolve, reject) => {
    const failed = (err: Error): void => { udp.close(); reject(err) }
    tcp.once('error', failed)
    tcp.listen(port, init.ip, () => { tcp.off('error', failed); resolve() })
  })
  // after the start, an error (EMFILE on accept) is logged; the server keeps what it can
  tcp.on('error', (err) => { log.vpn.error('DNS (TCP) on %s:%d: %s', init.ip, port, err.message) })
  return {
    counts,
    close: async () => {
      for (const socket of clients) socket.destroy()
      await Promise.all([
        new Promise<void>((resolve) => { udp.close(() => { resolve() }) }),
        new Promise<void>((resolve) => { tcp.close(() => { resolve() }) })
      ])
    }
  }
}
