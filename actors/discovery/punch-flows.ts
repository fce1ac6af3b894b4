import type { AbortOptions, Connection } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import { internalsOf } from '../libp2p-internals.js'
import type { DmsLibp2p } from '../libp2p-node.js'
import type { PunchMessage } from './hole-punch-wire.js'
import { WireError } from '../wire/envelope.js'
import { DmsError } from '../errors.js'

/**
 * The last part of a hole punch, once both sides know where the other's next TCP
 * connection comes from (actors/discovery/hole-punch.ts has the first part and the
 * protocol). Each flow returns the direct connection or throws why there is none.
 */
export interface PunchSession {
  libp2p: DmsLibp2p
  signal: AbortSignal
  send: (message: PunchMessage) => Promise<void>
  read: () => Promise<PunchMessage>
  /** The peer's public address and port with `/p2p/<peer>`, as its STUN server saw them. */
  to: Multiaddr
  /** This node's port, and where the STUN server saw it. */
  localPort: number
  mine: string
  theirs: string
}

/** Attempts of the synchronised punch (`/dms/holepunch/1.1.0`). */
export const PUNCH_ATTEMPTS = 3
/** One attempt's TCP connect waits this long for the other side (a SYN the kernel retries once); the upgrade after it has the punch's time. */
export const ATTEMPT_MS = 1500
const BACKOFF_MS = 200
/** The initiator waits half the RTT, up to this: a relay that slow leaves no time for attempts. */
const MAX_HALF_RTT_MS = 1000

/**
 * `/dms/holepunch/1.0.0`: on `sync` both dial. The initiator's SYN leaves half a
 * relayed round trip before the responder's, so it reaches the responder's router
 * first: a router that drops it is fine (its own SYN then opens the way for the
 * responder's), a router that resets it defeats the punch.
 */
export async function dialOnSync (session: PunchSession, initiator: boolean): Promise<Connection> {
  if (initiator) await session.send({ type: 'sync' })
  else if ((await session.read()).type !== 'sync') throw new WireError('INVALID', 'the peer sent connect twice')
  try {
    return await dialFrom(session.libp2p, session.to, { localPort: session.localPort, initiator, signal: session.signal })
  } catch (err) {
    throw failed(session, `${(err as Error).message}: ${dialFailureCause(err as Error)}`)
  }
}

/**
 * `/dms/holepunch/1.1.0`, the initiator, as DCUtR times its dials: measure the relayed
 * connection's RTT (`ping`/`pong`), send `sync`, dial half an RTT later, when `sync`
 * reaches the responder and it dials too. Each SYN then leaves before the other's
 * reaches its router, so routers that reset unsolicited SYNs see none. A refused,
 * reset or unanswered attempt is tried again after a backoff, up to PUNCH_ATTEMPTS.
 */
export async function dialSynchronised (session: PunchSession): Promise<Connection> {
  const errors: string[] = []
  for (let attempt = 1; attempt <= PUNCH_ATTEMPTS; attempt++) {
    const sent = performance.now()
    await session.send({ type: 'ping' })
    const answer = await session.read()
    if (answer.type !== 'pong') throw new WireError('INVALID', `the peer sent ${answer.type} where pong was due`)
    const rttMs = performance.now() - sent
    await session.send({ type: 'sync' })
    await sleep(Math.min(rttMs / 2, MAX_HALF_RTT_MS))
    try {
      return await dialFrom(session.libp2p, session.to, { localPort: session.localPort, initiator: true, signal: session.signal, connectTimeoutMs: ATTEMPT_MS })
    } catch (err) {
      errors.push(`attempt ${attempt}: ${shortError(err as Error)}`)
      if (session.signal.aborted) break
      if (attempt < PUNCH_ATTEMPTS) await sleep(BACKOFF_MS * 2 ** (attempt - 1))
    }
  }
  throw failed(session, `${errors.join(', ')}; ${errors.some((e) => / (refused|reset)$/.test(e)) ? dialFailureCause(new Error('ECONNREFUSED')) : 'a NAT that changed ports, or a firewall'}`)
}

/**
 * `/dms/holepunch/1.1.0`, the responder: answer each `ping` at once, dial on each `sync`
 * (after the previous attempt's dial has settled; PUNCH_ATTEMPTS at most). The initiator
 * ends the stream when its dial is through, or when it gives up.
 */
export async function answerSynchronised (session: PunchSession): Promise<Connection> {
  let dialing: { result: Promise<Connection | Error>, abort: AbortController } | undefined
  let pings = 0
  let syncs = 0
  const open = (result: Connection | Error | undefined): result is Connection => result != null && !(result instanceof Error) && result.status === 'open'
  for (;;) {
    const message = await session.read().catch((err: Error) => err)
    if (message instanceof Error) {
      const last = await dialing?.result
      if (open(last)) return last
      throw failed(session, last != null && last instanceof Error ? `${last.message}: ${dialFailureCause(last)}` : `the peer stopped: ${message.message}`)
    }
    if (message.type === 'ping' && ++pings <= PUNCH_ATTEMPTS) {
      // a new attempt: a dial of ours still waiting on the last one would leave late, out of step
      const last = await Promise.race([dialing?.result, undefined])
      if (!open(last)) dialing?.abort.abort(new Error('the next attempt starts'))
      await session.send({ type: 'pong' })
    } else if (message.type === 'sync' && ++syncs <= PUNCH_ATTEMPTS) {
      const previous = await dialing?.result
      if (open(previous)) return previous
      const abort = new AbortController()
      dialing = {
        abort,
        result: dialFrom(session.libp2p, session.to, { localPort: session.localPort, initiator: false, signal: AbortSignal.any([session.signal, abort.signal]), connectTimeoutMs: ATTEMPT_MS })
          .catch((err: Error) => err)
      }
    } else {
      throw new WireError('INVALID', `the peer sent ${message.type} out of turn (or more than ${PUNCH_ATTEMPTS} attempts)`)
    }
  }
}

/** Why a punch's dial failed, as far as its error tells. */
export function dialFailureCause (err: Error): string {
  if (/ECONNREFUSED|ECONNRESET/.test(err.message)) {
    return 'a router on the way answered the SYN with a reset (it rejects unsolicited connections instead of dropping them)'
  }
  return 'a router that resets unsolicited packets, or a NAT that changed ports'
}

const failed = (session: PunchSession, why: string): DmsError =>
  new DmsError('DIAL_FAILED', `no connection to ${session.theirs} from ${session.mine} (${why})`)

function shortError (err: Error): string {
  if (/ECONNREFUSED/.test(err.message)) return 'refused'
  if (/ECONNRESET/.test(err.message)) return 'reset'
  if (err.name === 'AbortError' || err.name === 'TimeoutError' || /abort|timed? ?out/i.test(err.message)) return 'no answer'
  return err.message
}

const sleep = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }

/**
 * Connect from `localPort` and upgrade the connection, straight through the TCP
 * transport: libp2p's dial queue keeps neither the local port nor the role. The
 * side that is not the initiator takes the responder's part in Noise, multistream
 * and yamux; libp2p's `initiator: false` alone leaves yamux a client on both
 * sides (it reads the raw connection's direction), so that side's connection is
 * marked inbound before the upgrade. The new connection is announced
 * (`connection:open`) and managed like any other.
 */
async function dialFrom (libp2p: DmsLibp2p, to: Multiaddr, options: { localPort: number, initiator: boolean, connectTimeoutMs?: number } & AbortOptions): Promise<Connection> {
  const { transportManager, upgrader, connectionGater } = internalsOf(libp2p)
  // the dial bypasses the dial queue, so the gater (our own addresses, for one) is asked here
  if (await connectionGater.denyDialMultiaddr?.(to) === true) throw new DmsError('DIAL_FAILED', `${to.toString()} is not dialled (connection gater)`)
  const transport = transportManager.dialTransportForMultiaddr(to)
  if (transport == null) throw new DmsError('DIAL_FAILED', `no transport dials ${to.toString()}`)
  // The connection keeps the dial's signal: a timeout signal would abort the new connection
  // when it fires, long after the dial. This one is aborted only while the dial is under way:
  // by the caller's signal, or when the TCP connection is not up within `connectTimeoutMs`
  // (the upgrade that follows takes round trips of its own, and has the caller's time).
  const dialing = new AbortController()
  const abort = (): void => { dialing.abort(options.signal?.reason) }
  if (options.signal?.aborted === true) abort()
  options.signal?.addEventListener('abort', abort, { once: true })
  const connectTimer = options.connectTimeoutMs != null ? setTimeout(() => { dialing.abort(new DmsError('TIMEOUT', 'no answer to the SYN')) }, options.connectTimeoutMs) : undefined
  const upgrading = {
    upgradeOutbound: async (connection: { direction: string }, upgradeOptions: Record<string, unknown>) => {
      clearTimeout(connectTimer)
      if (!options.initiator) connection.direction = 'inbound'
      return await upgrader.upgradeOutbound(connection, upgradeOptions)
    }
  }
  try {
    return await transport.dial(to, { localPort: options.localPort, initiator: options.initiator, signal: dialing.signal, localAddress: '0.0.0.0', upgrader: upgrading })
  } finally {
    clearTimeout(connectTimer)
    options.signal?.removeEventListener('abort', abort)
  }
}
