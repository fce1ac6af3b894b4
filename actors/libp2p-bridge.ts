import { fromCallback } from 'xstate'
import type { Libp2pEvents, Connection } from '@libp2p/interface'
import { asLibp2p } from './libp2p-node.js'
import type { Libp2pHandle } from '../machines/contracts.js'
import type { BridgeEvent } from '../machines/contracts.js'

/** Every libp2p event the bridge forwards, as a typed actor event. Peer ids are strings. */
export type { BridgeEvent }

export interface BridgeInput {
  libp2p: Libp2pHandle
}

type Translate<K extends keyof Libp2pEvents> = (detail: Libp2pEvents[K] extends CustomEvent<infer D> ? D : never) => BridgeEvent

const connectionFacts = (connection: Connection): { peerId: string, connectionId: string, remoteAddr: string } => ({
  peerId: connection.remotePeer.toString(),
  connectionId: connection.id,
  remoteAddr: connection.remoteAddr.toString()
})

/** libp2p event name → how its detail becomes a BridgeEvent. One place lists them all. */
const translations: { [K in keyof Libp2pEvents]?: Translate<K> } = {
  start: () => ({ type: 'libp2p.started' }),
  stop: () => ({ type: 'libp2p.stopped' }),
  'peer:discovery': (info) => ({ type: 'libp2p.peer.discovered', peerId: info.id.toString(), addresses: info.multiaddrs.map(String) }),
  'peer:connect': (peerId) => ({ type: 'libp2p.peer.connected', peerId: peerId.toString() }),
  'peer:disconnect': (peerId) => ({ type: 'libp2p.peer.disconnected', peerId: peerId.toString() }),
  'peer:reconnect-failure': (peerId) => ({ type: 'libp2p.peer.reconnect-failed', peerId: peerId.toString() }),
  'peer:identify': (result) => ({
    type: 'libp2p.peer.identified',
    peerId: result.peerId.toString(),
    protocols: [...result.protocols],
    ...(result.agentVersion != null ? { agentVersion: result.agentVersion } : {}),
    addresses: result.listenAddrs.map(String)
  }),
  'peer:update': (update) => ({
    type: 'libp2p.peer.updated',
    peerId: update.peer.id.toString(),
    addresses: update.peer.addresses.map((a) => a.multiaddr.toString()),
    protocols: [...update.peer.protocols]
  }),
  'self:peer:update': (update) => ({ type: 'libp2p.self.updated', addresses: update.peer.addresses.map((a) => a.multiaddr.toString()) }),
  'transport:listening': (listener) => ({ type: 'libp2p.transport.listening', addresses: listener.getAddrs().map(String) }),
  'transport:close': (listener) => ({ type: 'libp2p.transport.closed', addresses: listener.getAddrs().map(String) }),
  'connection:open': (connection) => ({ type: 'libp2p.connection.opened', ...connectionFacts(connection), direction: connection.direction }),
  'connection:close': (connection) => ({ type: 'libp2p.connection.closed', ...connectionFacts(connection) }),
  'connection:prune': (connections) => ({ type: 'libp2p.connection.pruned', peerIds: connections.map((c) => c.remotePeer.toString()) })
}

/**
 * Turns a libp2p node's EventTarget into typed actor events. Attach it before
 * `libp2p.start()` to see `start` and `transport:listening`. An exception while
 * translating is caught and reported as `libp2p.bridge.failed`: XState cannot
 * catch what is thrown inside a libp2p listener. Every listener is removed when
 * the actor stops.
 */
export const libp2pBridge = fromCallback<BridgeEvent, BridgeInput>(({ input, sendBack }) => {
  const node = asLibp2p(input.libp2p)
  const removers: Array<() => void> = []
  for (const [name, translate] of Object.entries(translations) as Array<[keyof Libp2pEvents, (detail: unknown) => BridgeEvent]>) {
    const listener = (event: Event): void => {
      try {
        sendBack(translate((event as CustomEvent).detail))
      } catch (err) {
        try {
          sendBack({ type: 'libp2p.bridge.failed', libp2pEvent: name, error: err instanceof Error ? err.message : String(err) })
        } catch {
          // the receiving actor is gone; nothing is left to tell
        }
      }
    }
    node.addEventListener(name, listener)
    removers.push(() => { node.removeEventListener(name, listener) })
  }
  return () => { for (const remove of removers) remove() }
})
