import './polyfill.js'
import { fromPromise, fromCallback } from 'xstate'
import type { EventObject } from 'xstate'
import { multiaddr } from '@multiformats/multiaddr'
import { peerIdFromString } from '@libp2p/peer-id'
import type { Connection, Libp2p } from '@libp2p/interface'
import { asLibp2p } from './libp2p-node.js'
import { internalsOf } from './libp2p-internals.js'
import type { DmsLibp2p } from './libp2p-node.js'
import type { Libp2pHandle } from '../machines/contracts.js'
import { explainNetworkError, isAddressInUse } from './network-errors.js'
import { DmsError } from './errors.js'
import { dhtHasPeers } from './discovery/dht-ready.js'
import type { HostOperation, HostOperationEvent } from '../machines/contracts.js'

/** An operation the host runs while it is running; `reqId` ties the reply to the caller. */
export type { HostOperation, HostOperationEvent }

/** Starts a created node. The bridge is attached before this runs. */
export const startLibp2p = fromPromise<void, { libp2p: Libp2pHandle }>(async ({ input }) => {
  const libp2p = asLibp2p(input.libp2p)
  try {
    await libp2p.start()
  } catch (err) {
    // the start's error is what the caller gets; the stop only frees what the start took
    await Promise.resolve(libp2p.stop()).catch(() => {})
    throw new DmsError(isAddressInUse(err) ? 'ADDRESS_IN_USE' : 'HOST_START_FAILED', `could not start the host: ${explainNetworkError(err)}`, { cause: err })
  }
})

/** Stops a node; a node that fails to stop cleanly is still considered stopped. */
export const stopLibp2p = fromPromise<void, { libp2p: Libp2pHandle | undefined }>(async ({ input }) => {
  if (input.libp2p != null) await stopWhenStarted(asLibp2p(input.libp2p))
})

/**
 * Stop a libp2p node, first letting a start under way finish: a TCP listener
 * closed while it is still binding keeps listening (libp2p closes only a server
 * that already listens), which leaves a port open and the process alive.
 */
export async function stopWhenStarted (libp2p: Libp2p, waitMs = 10_000): Promise<void> {
  if (libp2p.status === 'starting') {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, waitMs)
      libp2p.addEventListener('start', done, { once: true })
      function done (): void { clearTimeout(timer); libp2p.removeEventListener('start', done); resolve() }
    })
  }
  await libp2p.stop()
}

/**
 * Runs one dial or listen. A callback actor, so the parent can tell each
 * operation's reply apart by its reqId and stop it once it has answered.
 */
export const hostOperation = fromCallback<EventObject, { libp2p: Libp2pHandle, operation: HostOperation }>(({ input, sendBack }) => {
  const { libp2p, operation } = input
  // stopping the actor (the caller gave up) aborts the dial
  const cancelled = new AbortController()
  const signal = operation.kind === 'dial' && operation.timeoutMs != null ? AbortSignal.any([cancelled.signal, AbortSignal.timeout(operation.timeoutMs)]) : cancelled.signal
  run(asLibp2p(libp2p), operation, signal).then(
    (result) => { if (!cancelled.signal.aborted) sendBack({ type: 'host.operation.done', reqId: operation.reqId, result }) },
    (err: unknown) => { if (!cancelled.signal.aborted) sendBack({ type: 'host.operation.failed', reqId: operation.reqId, error: explainNetworkError(err) } satisfies HostOperationEvent) }
  )
  return () => { cancelled.abort() }
})

async function run (libp2p: Libp2p, operation: HostOperation, signal: AbortSignal): Promise<unknown> {
  if (operation.kind === 'dial') return await dial(libp2p as DmsLibp2p, operation.target, signal)
  return await listen(libp2p as DmsLibp2p, operation.address)
}

async function dial (libp2p: DmsLibp2p, target: string, signal: AbortSignal): Promise<{ peerId: string, remoteAddr: string, alreadyConnected?: true }> {
  if (!target.startsWith('/')) {
    // as libp2p does: an open direct connection answers the dial; a relayed (limited) one does not, a dial may find a direct path
    const open = libp2p.getConnections(peerIdFromString(target)).find((c) => c.status === 'open' && c.limits == null)
    return open != null ? { ...outcome(open), alreadyConnected: true } : outcome(await dialPeerId(libp2p, target, signal))
  }
  const address = multiaddr(target)
  const peer = address.getComponents().findLast((c) => c.name === 'p2p')?.value
  const existing = peer == null ? [] : libp2p.getConnections(peerIdFromString(peer)).filter((c) => c.status === 'open')
  const asked = withoutPeer(target)
  const same = existing.find((c) => withoutPeer(c.remoteAddr.toString()) === asked)
  if (same != null) return { ...outcome(same), alreadyConnected: true }
  // libp2p answers a dial to a connected peer with the connection it has, whatever the address. An
  // address the peer itself announced is taken as answered by it; any other is tried, so a wrong one
  // (another peer listens there) is found out
  if (existing.length > 0 && await announcedBy(libp2p, peer!, asked)) return { ...outcome(existing[0]!), alreadyConnected: true }
  return outcome(await libp2p.dial(address, { signal, ...(existing.length > 0 ? { force: true } : {}) }))
}

/** Whether `peer` announced `address` (identify put it in the peer store). */
async function announcedBy (libp2p: DmsLibp2p, peer: string, address: string): Promise<boolean> {
  const known = await libp2p.peerStore.get(peerIdFromString(peer)).catch(() => undefined)
  return known?.addresses.some(({ multiaddr: announced }) => withoutPeer(announced.toString()) === address) === true
}

const outcome = (connection: Connection): { peerId: string, remoteAddr: string } => ({ peerId: connection.remotePeer.toString(), remoteAddr: connection.remoteAddr.toString() })
const withoutPeer = (address: string): string => address.replace(/\/p2p\/[^/]+$/, '')

/**
 * Dial by peer id: the addresses libp2p knows first (it asks the DHT itself when
 * it knows none); when those are stale (a peer that moved, or got a relay
 * reservation since), ask the DHT for the peer's current addresses and dial those.
 */
async function dialPeerId (libp2p: DmsLibp2p, target: string, signal: AbortSignal): Promise<Connection> {
  const peerId = peerIdFromString(target)
  try {
    return await libp2p.dial(peerId, { signal })
  } catch (err) {
    if (libp2p.services.dht == null) throw err
    let found
    try {
      const lookup = AbortSignal.any([signal, AbortSignal.timeout(FIND_PEER_TIMEOUT_MS)])
      await dhtHasPeers(libp2p, lookup)
      // not the peer store's copy: that is what just failed
      found = await libp2p.peerRouting.findPeer(peerId, { signal: lookup, useCache: false })
    } catch (lookup) {
      throw new DmsError('DIAL_FAILED', `${explainNetworkError(err)}; the DHT has no newer addresses (${explainNetworkError(lookup)})`, { cause: err })
    }
    // every address names the peer, so the connection is to that peer or fails
    return await libp2p.dial(found.multiaddrs.map((address) => address.getComponents().some((c) => c.name === 'p2p' && c.value === target) ? address : address.encapsulate(`/p2p/${target}`)), { signal })
  }
}

/** How long a DHT lookup for a peer's addresses may take. */
const FIND_PEER_TIMEOUT_MS = 15_000

async function listen (libp2p: DmsLibp2p, address: string): Promise<{ addresses: string[] }> {
  if (libp2p.getMultiaddrs().some((own) => withoutPeer(own.toString()) === withoutPeer(address))) {
    throw new DmsError('LISTEN_FAILED', `this node already listens on ${withoutPeer(address)}`)
  }
  // libp2p has no public run-time listen; its transport manager does the work.
  await internalsOf(libp2p).transportManager.listen([multiaddr(address)])
  return { addresses: libp2p.getMultiaddrs().map(String) }
}
