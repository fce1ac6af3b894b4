import '../runtime/polyfill.js'
import { fromPromise, fromCallback } from 'xstate'
import type { EventObject } from 'xstate'
import { multiaddr } from '@multiformats/multiaddr'
import { peerIdFromString } from '@libp2p/peer-id'
import type { Libp2p } from '@libp2p/interface'
import type { DmsLibp2p } from './libp2p-node.js'
import { explainNetworkError } from './network-errors.js'

/** An operation the host runs while it is running; `reqId` ties the reply to the caller. */
export type HostOperation =
  | { kind: 'dial', reqId: string, target: string }
  | { kind: 'listen', reqId: string, address: string }

export type HostOperationEvent =
  | { type: 'host.operation.done', reqId: string, result: unknown }
  | { type: 'host.operation.failed', reqId: string, error: string }

/** Starts a created node. The bridge is attached before this runs. */
export const startLibp2p = fromPromise<void, { libp2p: DmsLibp2p }>(async ({ input }) => {
  try {
    await input.libp2p.start()
  } catch (err) {
    await Promise.resolve(input.libp2p.stop()).catch(() => {})
    throw new Error(`could not start the host: ${explainNetworkError(err)}`, { cause: err })
  }
})

/** Stops a node; a node that fails to stop cleanly is still considered stopped. */
export const stopLibp2p = fromPromise<void, { libp2p: DmsLibp2p | undefined }>(async ({ input }) => {
  await input.libp2p?.stop()
})

/**
 * Runs one dial or listen. A callback actor, so the parent can tell each
 * operation's reply apart by its reqId and stop it once it has answered.
 */
export const hostOperation = fromCallback<EventObject, { libp2p: DmsLibp2p, operation: HostOperation }>(({ input, sendBack }) => {
  const { libp2p, operation } = input
  run(libp2p, operation).then(
    (result) => { sendBack({ type: 'host.operation.done', reqId: operation.reqId, result } ) },
    (err: unknown) => { sendBack({ type: 'host.operation.failed', reqId: operation.reqId, error: explainNetworkError(err) } satisfies HostOperationEvent) }
  )
})

async function run (libp2p: Libp2p, operation: HostOperation): Promise<unknown> {
  if (operation.kind === 'dial') return await dial(libp2p, operation.target)
  return await listen(libp2p as DmsLibp2p, operation.address)
}

async function dial (libp2p: Libp2p, target: string): Promise<{ peerId: string, remoteAddr: string }> {
  const to = target.startsWith('/') ? multiaddr(target) : peerIdFromString(target)
  const connection = await libp2p.dial(to)
  return { peerId: connection.remotePeer.toString(), remoteAddr: connection.remoteAddr.toString() }
}

async function listen (libp2p: DmsLibp2p, address: string): Promise<{ addresses: string[] }> {
  // libp2p has no public run-time listen; its transport manager does the work.
  const { components } = libp2p as unknown as { components: { transportManager: { listen: (addrs: unknown[]) => Promise<void> } } }
  await components.transportManager.listen([multiaddr(address)])
  return { addresses: libp2p.getMultiaddrs().map(String) }
}
