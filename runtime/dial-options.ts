import { multiaddr } from '@multiformats/multiaddr'
import { checkMultiaddr, listenProblem } from './config.js'
import { DmsError } from './errors.js'
import type { NetworkKind } from './events.js'
import { parsePeerId } from './peer-id.js'

/** Options of one dial. */
export interface DialOptions {
  /** The host to dial on. @default 'public' */
  network?: NetworkKind
  /** This dial's own deadline, 1 to 600000 ms. @default the node's dialTimeoutMs */
  timeoutMs?: number
  /** Abandon the dial: it rejects with ABORTED and libp2p stops dialling. */
  signal?: AbortSignal
}

/** What a dial reached: the peer, the address of the connection, and whether it existed before (at an address the peer announced). */
export interface DialResult { peerId: string, remoteAddr: string, alreadyConnected?: true }

/** Refuse a dial target that is neither a multiaddr nor a peer id (BAD_ADDRESS, BAD_PEER_ID), this node itself (BAD_PEER_ID), or a bad option (INVALID). */
export function checkDial (target: unknown, options: DialOptions, self?: string): asserts target is string {
  if (typeof target !== 'string' || target === '') throw new DmsError('BAD_ADDRESS', 'dial needs a peer id or a multiaddr')
  let peer = target
  if (target.startsWith('/')) {
    const problem = checkMultiaddr(target, false)
    if (problem != null) throw new DmsError('BAD_ADDRESS', problem)
    const parts = multiaddr(target).getComponents()
    // a well-formed address that says neither where (a TCP port, a relay) nor whom (a peer id) to dial
    if (!parts.some((c) => c.name === 'tcp' || c.name === 'p2p' || c.name === 'p2p-circuit')) throw new DmsError('BAD_ADDRESS', `${target} has neither /tcp/<port> nor /p2p/<peer id>: nothing to dial`)
    peer = parts.findLast((c) => c.name === 'p2p')?.value ?? ''
  } else {
    parsePeerId(target)
  }
  if (self != null && peer === self) throw new DmsError('BAD_PEER_ID', `${self} is this node's own id: nothing to dial`)
  if (options.network !== undefined && options.network !== 'public' && options.network !== 'private') {
    throw new DmsError('INVALID', `network must be 'public' or 'private', not ${JSON.stringify(options.network) ?? typeof options.network}`)
  }
  if (options.timeoutMs !== undefined && !(Number.isInteger(options.timeoutMs) && options.timeoutMs >= 1 && options.timeoutMs <= 600_000)) {
    throw new DmsError('INVALID', `timeoutMs must be a whole number of milliseconds from 1 to 600000, not ${String(options.timeoutMs)}`)
  }
}

/** A listen address, refused when it is not a multiaddr or is one of a transport the node lacks (BAD_ADDRESS). */
export function checkListen (address: unknown): string {
  const problem = checkMultiaddr(address, false) ?? listenProblem(address as string)
  if (problem != null) throw new DmsError('BAD_ADDRESS', problem)
  return address as string
}
