import { fromCallback } from 'xstate'
import type { EventObject } from 'xstate'
import type { AbortOptions, Connection, Stream } from '@libp2p/interface'
import { lpStream } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import type { Multiaddr } from '@multiformats/multiaddr'
import { internalsOf } from '../libp2p-internals.js'
import type { DmsLibp2p } from '../libp2p-node.js'
import type { DiscoveryFact } from '../../machines/discovery.js'
import { isRelayAddress } from '../../machines/reachability-rules.js'
import { stunMapping } from './stun.js'
import { HOLE_PUNCH_PROTOCOL, MAX_PUNCH_FRAME_BYTES, decodePunch, encodePunch, parsePunchAddress } from './hole-punch-wire.js'
import type { PunchMessage } from './hole-punch-wire.js'
import { WireError } from '../wire/envelope.js'
import { DmsError } from '../errors.js'
import { MAX_PROBES, MAX_PER_TARGET, PunchBudget } from './punch-budget.js'
import { log, logged, traced } from '../log.js'

export interface HolePunchOptions {
  /** STUN servers (TCP), tried in order until one answers. */
  stun: Array<{ host: string, port: number }>
  /** Time one punch (probe, exchange and dial) may take. */
  timeoutMs: number
}

/** Where this node's next TCP connection will come from, or why that cannot be known. */
type Probe = { localPort: number, address: string } | { reason: string }

/**
 * TCP hole punching for peers reached through a relay (docs/discovery.md).
 * Both sides learn from a STUN server the public address and port of a fresh
 * local port, swap them over the relayed connection (`/dms/holepunch/1.0.0`),
 * and on `sync` connect from that port to each other at once: the first SYN
 * opens its own NAT for the other's, and TCP's simultaneous open makes one
 * connection of the two (a test mounts the NATs: test/e2e/hole-punch.test.ts).
 * The side with the lower peer id starts and is the initiator of the security
 * handshake; the other side is its responder. It needs NATs that keep ports (the
 * probe sees a NAT that does not, and says so) and that drop, not reset,
 * unsolicited packets. Reports each outcome as a `discovery.punch` fact.
 */
export function holePunchLoop (libp2p: DmsLibp2p, options: HolePunchOptions) {
  return fromCallback<EventObject>(({ sendBack }) => {
    const send = (fact: DiscoveryFact): void => {
      try { sendBack(fact) } catch { /* the machine is gone */ }
    }
    const budget = new PunchBudget()
    let stopped = false
    const report = (peer: string, outcome: 'direct' | 'failed', detail: string): void => {
      budget.outcome(peer, outcome === 'failed', Date.now())
      if (!stopped) send({ type: 'discovery.punch', peerId: peer, outcome, detail })
    }
    const hasDirect = (connection: Connection): boolean =>
      libp2p.getConnections(connection.remotePeer).some((c) => c.status === 'open' && !isRelayAddress(c.remoteAddr.toString()))

    const punch = async (relayed: Connection, stream: Stream, initiator: boolean): Promise<void> => {
      const peer = relayed.remotePeer.toString()
      const signal = AbortSignal.timeout(options.timeoutMs)
      const lp = lpStream(stream, { maxDataLength: MAX_PUNCH_FRAME_BYTES })
      const read = async (): Promise<PunchMessage> => decodePunch((await lp.read({ signal })).subarray())
      // the responder checks the first frame before it answers: a peer out of order costs no STUN probe
      const readConnect = async (): Promise<Extract<PunchMessage, { type: 'connect' }>> => {
        const message = await read()
        if (message.type !== 'connect') throw new WireError('INVALID', 'the peer sent sync before connect')
        return message
      }
      let mine: Probe
      let theirs: Extract<PunchMessage, { type: 'connect' }>
      const probeWithin = async (): Promise<Probe> => {
        if (!budget.claimProbe(Date.now())) throw new DmsError('RATE_LIMITED', `this node takes part in at most ${MAX_PROBES} hole punches a minute`)
        return await probe(options)
      }
      if (initiator) {
        mine = await probeWithin()
        await lp.write(encodePunch(connectOf(mine)), { signal })
        theirs = await readConnect()
      } else {
        theirs = await readConnect()
        mine = await probeWithin()
        await lp.write(encodePunch(connectOf(mine)), { signal })
      }
      if ('reason' in mine) { report(peer, 'failed', `this node's ${mine.reason}`); return }
      if ('reason' in theirs) { report(peer, 'failed', `the peer's ${theirs.reason}`); return }
      const target = parsePunchAddress(theirs.address)!
      if (!budget.claimTarget(`${target.ip}:${target.port}`, Date.now())) {
        report(peer, 'failed', `${theirs.address} was the target of ${MAX_PER_TARGET} punches this minute already`)
        return
      }
      // Both dial now. Whichever SYN leaves first is dropped by the other's NAT but opens
      // its own for the other's, which arrives later and completes the connection: the
      // timing needs no care beyond both dialling within the kernel's SYN retries.
      if (initiator) await lp.write(encodePunch({ type: 'sync' }), { signal })
      else if ((await read()).type !== 'sync') {
        throw new WireError('INVALID', 'the peer sent connect twice')
      }
      const to = multiaddr(`/ip4/${target.ip}/tcp/${target.port}/p2p/${peer}`)
      try {
        const direct = await dialFrom(libp2p, to, { localPort: mine.localPort, initiator, signal })
        report(peer, 'direct', direct.remoteAddr.toString())
      } catch (err) {
        report(peer, 'failed', `no connection to ${theirs.address} from ${mine.address} (${(err as Error).message}): a router that resets unsolicited packets, or a NAT that changed ports`)
        return
      }
      // as DCUtR does: the relayed connection has served its purpose
      if (initiator) await relayed.close({ signal: AbortSignal.timeout(2000) }).catch(() => { relayed.abort(new Error('upgraded to a direct connection')) })
    }

    const run = (relayed: Connection, open: () => Promise<Stream>, initiator: boolean, refuse?: Stream): void => {
      const peer = relayed.remotePeer.toString()
      if (!budget.claimPeer(peer, Date.now())) { refuse?.abort(new Error('a hole punch with this peer is under way or was tried too often')); return }
      void (async () => {
        let stream: Stream | undefined
        try {
          stream = await open()
          await punch(relayed, stream, initiator)
          await stream.close({ signal: AbortSignal.timeout(1000) }).catch(traced(log.discovery, 'close the punch stream'))
        } catch (err) {
          stream?.abort(err as Error)
          // a relayed connection that closed under the punch (libp2p drops duplicates) says nothing about the path
          if (!hasDirect(relayed) && relayed.status === 'open') report(peer, 'failed', punchError(err as Error))
        } finally {
          budget.release(peer)
        }
      })()
    }

    // One side starts, whichever way the relayed connection runs (there may be one each
    // way): the one with the lower peer id. Both starting would have each refuse the other.
    const self = libp2p.peerId.toString()
    const onOpen = (event: Event): void => {
      const connection = (event as CustomEvent<Connection>).detail
      if (self > connection.remotePeer.toString() || !isRelayAddress(connection.remoteAddr.toString()) || hasDirect(connection)) return
      if (budget.backingOff(connection.remotePeer.toString(), Date.now())) return
      run(connection, async () => await connection.newStream(HOLE_PUNCH_PROTOCOL, { runOnLimitedConnection: true, signal: AbortSignal.timeout(options.timeoutMs) }), true)
    }
    libp2p.addEventListener('connection:open', onOpen)
    const handled = libp2p.handle(HOLE_PUNCH_PROTOCOL, (stream, connection) => {
      if (!isRelayAddress(connection.remoteAddr.toString()) || hasDirect(connection)) { stream.abort(new Error('hole punching is only for relayed peers')); return }
      if (connection.remotePeer.toString() > self) { stream.abort(new Error('the peer with the lower id opens a hole punch')); return }
      run(connection, async () => stream, false, stream)
    }, { runOnLimitedConnection: true, maxInboundStreams: 4 }).catch(logged(log.discovery, 'serve hole punching'))
    return () => {
      stopped = true
      libp2p.removeEventListener('connection:open', onOpen)
      void handled.then(async () => { await libp2p.unhandle(HOLE_PUNCH_PROTOCOL) }).catch(traced(log.discovery, 'unhandle hole punching'))
    }
  })
}

const connectOf = (probe: Probe): PunchMessage => 'reason' in probe ? { type: 'connect', reason: probe.reason } : { type: 'connect', address: probe.address }

/** Ask the STUN servers in turn where a fresh local port appears on the internet. */
async function probe (options: HolePunchOptions): Promise<Probe> {
  const errors: string[] = []
  for (const server of options.stun) {
    try {
      const mapping = await stunMapping(server, Math.min(2000, options.timeoutMs))
      if (mapping.mappedPort !== mapping.localPort) {
        return { reason: `NAT changes ports (a symmetric NAT: port ${mapping.localPort} was seen as ${mapping.mappedPort}), so no address can be predicted` }
      }
      return { localPort: mapping.localPort, address: `${mapping.mappedIp}:${mapping.mappedPort}` }
    } catch (err) {
      errors.push(`${server.host}:${server.port}: ${(err as Error).message}`)
    }
  }
  return { reason: `STUN servers did not answer (${errors.join('; ')})` }
}

/**
 * Connect from `localPort` and upgrade the connection, straight through the TCP
 * transport: libp2p's dial queue keeps neither the local port nor the role. The
 * side that is not the initiator takes the responder's part in Noise, multistream
 * and yamux; libp2p's `initiator: false` alone leaves yamux a client on both
 * sides (it reads the raw connection's direction), so that side's connection is
 * marked inbound before the upgrade. The new connection is announced
 * (`connection:open`) and managed like any other.
 */
async function dialFrom (libp2p: DmsLibp2p, to: Multiaddr, options: { localPort: number, initiator: boolean } & AbortOptions): Promise<Connection> {
  const { transportManager, upgrader, connectionGater } = internalsOf(libp2p)
  // the dial bypasses the dial queue, so the gater (our own addresses, for one) is asked here
  if (await connectionGater.denyDialMultiaddr?.(to) === true) throw new DmsError('DIAL_FAILED', `${to.toString()} is not dialled (connection gater)`)
  const transport = transportManager.dialTransportForMultiaddr(to)
  if (transport == null) throw new DmsError('DIAL_FAILED', `no transport dials ${to.toString()}`)
  const asResponder = {
    upgradeOutbound: async (connection: { direction: string }, upgradeOptions: Record<string, unknown>) => {
      connection.direction = 'inbound'
      return await upgrader.upgradeOutbound(connection, upgradeOptions)
    }
  }
  // The connection keeps the dial's signal: a timeout signal would abort the new connection
  // when it fires, long after the dial. This one is aborted only while the dial is under way.
  const dialing = new AbortController()
  const abort = (): void => { dialing.abort(options.signal?.reason) }
  options.signal?.addEventListener('abort', abort, { once: true })
  try {
    return await transport.dial(to, { localPort: options.localPort, initiator: options.initiator, signal: dialing.signal, localAddress: '0.0.0.0', upgrader: options.initiator ? upgrader : asResponder })
  } finally {
    options.signal?.removeEventListener('abort', abort)
  }
}

function punchError (err: Error): string {
  if (err.name === 'UnsupportedProtocolError') return 'the peer does not punch holes (no STUN server configured there?)'
  return `hole punch failed: ${err.message}`
}
