import { fromCallback } from 'xstate'
import type { EventObject } from 'xstate'
import type { Connection, Stream } from '@libp2p/interface'
import { lpStream } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import type { DmsLibp2p } from '../libp2p-node.js'
import type { DiscoveryFact } from '../../machines/discovery.js'
import { isRelayAddress } from '../../machines/reachability-rules.js'
import { isDirect } from '../direct-connection.js'
import { stunMapping } from './stun.js'
import { HOLE_PUNCH_PROTOCOL, HOLE_PUNCH_PROTOCOL_SYNCED, MAX_PUNCH_FRAME_BYTES, decodePunch, encodePunch, parsePunchAddress } from './hole-punch-wire.js'
import type { PunchMessage } from './hole-punch-wire.js'
import { WireError } from '../wire/envelope.js'
import { DmsError } from '../errors.js'
import { MAX_PROBES, MAX_PER_TARGET, PunchBudget } from './punch-budget.js'
import { log, logged, traced } from '../log.js'
import { answerSynchronised, dialOnSync, dialSynchronised } from './punch-flows.js'

export interface HolePunchOptions {
  /** STUN servers (TCP), tried in order until one answers. */
  stun: Array<{ host: string, port: number }>
  /** Time one punch (probe, exchange and dial) may take. */
  timeoutMs: number
}

/** How often relayed connections are looked at for a punch whose backoff is over. */
const RETRY_CHECK_MS = 5000

/** Where this node's next TCP connection will come from, or why that cannot be known. */
type Probe = { localPort: number, address: string } | { reason: string }

/**
 * TCP hole punching for peers reached through a relay (docs/discovery.md).
 * Both sides learn from a STUN server the public address and port of a fresh
 * local port, swap them over the relayed connection, and connect from that port
 * to each other at once: each SYN opens its own NAT for the other's, and TCP's
 * simultaneous open makes one connection of the two (actors/discovery/punch-flows.ts
 * times the dials; tests mount the NATs: test/e2e/hole-punch.test.ts and
 * hole-punch-reset.test.ts). The side with the lower peer id starts and is the
 * initiator of the security handshake; the other side is its responder. It needs
 * NATs that keep ports (the probe sees a NAT that does not, and says so). Reports
 * each outcome as a `discovery.punch` fact.
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
    const hasDirect = (connection: Connection): boolean => libp2p.getConnections(connection.remotePeer).some(isDirect)

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
      const session = {
        libp2p,
        signal,
        send: async (message: PunchMessage) => { await lp.write(encodePunch(message), { signal }) },
        read,
        to: multiaddr(`/ip4/${target.ip}/tcp/${target.port}/p2p/${peer}`),
        localPort: mine.localPort,
        mine: mine.address,
        theirs: theirs.address
      }
      let direct: Connection
      try {
        if (stream.protocol !== HOLE_PUNCH_PROTOCOL_SYNCED) direct = await dialOnSync(session, initiator)
        else direct = initiator ? await dialSynchronised(session) : await answerSynchronised(session)
      } catch (err) {
        // a relayed connection that closed under the punch says nothing about the path (run() decides)
        if (err instanceof WireError || relayed.status !== 'open') throw err
        report(peer, 'failed', (err as Error).message)
        return
      }
      report(peer, 'direct', direct.remoteAddr.toString())
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
    const tryPunch = (connection: Connection): void => {
      if (self > connection.remotePeer.toString() || connection.status !== 'open' || !isRelayAddress(connection.remoteAddr.toString()) || hasDirect(connection)) return
      // a punch we could not probe for would fail and back the peer off for nothing
      if (budget.backingOff(connection.remotePeer.toString(), Date.now()) || !budget.canProbe(Date.now())) return
      // a peer of an older version answers only 1.0.0
      run(connection, async () => await connection.newStream([HOLE_PUNCH_PROTOCOL_SYNCED, HOLE_PUNCH_PROTOCOL], { runOnLimitedConnection: true, signal: AbortSignal.timeout(options.timeoutMs) }), true)
    }
    const onOpen = (event: Event): void => { tryPunch((event as CustomEvent<Connection>).detail) }
    libp2p.addEventListener('connection:open', onOpen)
    // A pair that stays relayed tries again once its backoff is over (30 s, doubling up to 10 min):
    // a router restarted, a NAT reconfigured or a STUN server back makes the path direct, and
    // the traffic on the relayed connection moves over (the VPN's TCP sessions with it).
    const retries = setInterval(() => { for (const connection of libp2p.getConnections()) tryPunch(connection) }, RETRY_CHECK_MS)
    const handled = libp2p.handle([HOLE_PUNCH_PROTOCOL_SYNCED, HOLE_PUNCH_PROTOCOL], (stream, connection) => {
      if (!isRelayAddress(connection.remoteAddr.toString()) || hasDirect(connection)) { stream.abort(new Error('hole punching is only for relayed peers')); return }
      if (connection.remotePeer.toString() > self) { stream.abort(new Error('the peer with the lower id opens a hole punch')); return }
      run(connection, async () => stream, false, stream)
    }, { runOnLimitedConnection: true, maxInboundStreams: 4 }).catch(logged(log.discovery, 'serve hole punching'))
    return () => {
      stopped = true
      clearInterval(retries)
      libp2p.removeEventListener('connection:open', onOpen)
      void handled.then(async () => { await libp2p.unhandle([HOLE_PUNCH_PROTOCOL_SYNCED, HOLE_PUNCH_PROTOCOL]) }).catch(traced(log.discovery, 'unhandle hole punching'))
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

function punchError (err: Error): string {
  if (err.name === 'UnsupportedProtocolError') return 'the peer does not punch holes (no STUN server configured there?)'
  return `hole punch failed: ${err.message}`
}
