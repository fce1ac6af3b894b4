import type { Connection, PeerId } from '@libp2p/interface'
import type { DmsLibp2p } from './libp2p-node.js'

/** libp2p's ping protocol: the peer echoes 32 bytes. Every libp2p node answers it. */
const PING_PROTOCOL = '/ipfs/ping/1.0.0'
const PING_BYTES = 32

/** One round trip, and the connection it took. */
export interface PingResult {
  /** Round-trip time in ms, to the µs (libp2p's own ping rounds to whole ms). */
  rttMs: number
  /** The remote address of the connection the ping went over. */
  via: string
  /** Through a circuit relay (a limited connection), not direct. */
  relayed: boolean
}

/** Whether a connection goes through a circuit relay. */
export const isRelayed = (connection: Connection): boolean =>
  connection.limits != null || connection.remoteAddr.toString().includes('/p2p-circuit')

/**
 * Ping `peer` once over its best connection (dialling it when there is none),
 * timed with the monotonic clock around the echo only. A connection that
 * closes under the ping (one replaced by a simultaneous dial, say) costs one
 * retry on a fresh one, never a failed ping.
 */
export async function pingOnce (libp2p: DmsLibp2p, peer: PeerId, signal: AbortSignal): Promise<PingResult> {
  try {
    return await echo(await libp2p.dial(peer, { signal }), signal)
  } catch (err) {
    if (signal.aborted) throw err
    return await echo(await libp2p.dial(peer, { signal }), signal)
  }
}

async function echo (connection: Connection, signal: AbortSignal): Promise<PingResult> {
  const stream = await connection.newStream(PING_PROTOCOL, { signal, runOnLimitedConnection: true })
  const sent = crypto.getRandomValues(new Uint8Array(PING_BYTES))
  const received = new Uint8Array(PING_BYTES)
  let length = 0
  let start = 0
  try {
    const end = await new Promise<number>((resolve, reject) => {
      const fail = (err: unknown): void => { reject(err instanceof Error ? err : new Error('the ping stream closed before the reply')) }
      stream.addEventListener('message', (event) => {
        const chunk = event.data instanceof Uint8Array ? event.data : event.data.subarray()
        received.set(chunk.subarray(0, PING_BYTES - length), length)
        length += Math.min(chunk.byteLength, PING_BYTES - length)
        if (length === PING_BYTES) resolve(performance.now())
      })
      stream.addEventListener('close', (event) => { fail((event as { error?: unknown }).error) }, { once: true })
      signal.addEventListener('abort', () => { fail(signal.reason) }, { once: true })
      start = performance.now()
      stream.send(sent)
    })
    if (!received.every((byte, i) => byte === sent[i])) throw new Error('the peer answered the ping with other bytes')
    return { rttMs: Math.round((end - start) * 1000) / 1000, via: connection.remoteAddr.toString(), relayed: isRelayed(connection) }
  } catch (err) {
    stream.abort(err instanceof Error ? err : new Error('ping failed'))
    throw err
  } finally {
    // our end of the echo: the peer's handler then ends its side
    if (stream.status === 'open') stream.close().catch((err: Error) => { stream.abort(err) })
  }
}
