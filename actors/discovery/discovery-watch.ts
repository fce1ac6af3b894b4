import { fromCallback } from 'xstate'
import type { EventObject } from 'xstate'
import type { PeerId } from '@libp2p/interface'
import type { DmsLibp2p } from '../libp2p-node.js'
import type { DiscoveryFact, DiscoverySource } from '../../machines/discovery.js'
import { isRelayAddress } from '../../machines/reachability-rules.js'

/** Discovery services a host may carry, by the service name libp2p gives them. */
const SERVICE_SOURCES: Array<[string, DiscoverySource]> = [['dht', 'dht'], ['mdns', 'mdns']]

/**
 * Reports a host's discovery facts to the discovery machine: peers found by the
 * DHT and mDNS services, the host's announced addresses after each change, and
 * each peer's direct and relayed connections after one opens or closes. The
 * configured bootstrap peers count as found by `bootstrap`.
 */
export function discoveryWatch (libp2p: DmsLibp2p, bootstrapPeers: string[]) {
  return fromCallback<EventObject>(({ sendBack }) => {
    const send = (fact: DiscoveryFact): void => {
      try { sendBack(fact) } catch { /* the machine is gone */ }
    }
    const removers: Array<() => void> = []
    const listen = (target: EventTarget | undefined, name: string, listener: (event: CustomEvent) => void): void => {
      if (target == null || typeof target.addEventListener !== 'function') return
      const wrapped = (event: Event): void => { listener(event as CustomEvent) }
      target.addEventListener(name, wrapped)
      removers.push(() => { target.removeEventListener(name, wrapped) })
    }
    const services = libp2p.services as unknown as Record<string, EventTarget | undefined>
    for (const [service, source] of SERVICE_SOURCES) {
      listen(services[service], 'peer', (event) => {
        const peerId = String((event.detail as { id: PeerId }).id)
        if (peerId !== libp2p.peerId.toString()) send({ type: 'discovery.found', source, peerId })
      })
    }
    const sendAddresses = (): void => { send({ type: 'discovery.addresses', addresses: libp2p.getMultiaddrs().map(String) }) }
    listen(libp2p, 'self:peer:update', sendAddresses)
    const sendConnections = (event: CustomEvent): void => {
      const { remotePeer, remoteAddr } = event.detail as { remotePeer: PeerId, remoteAddr: { toString: () => string } }
      const open = libp2p.getConnections(remotePeer).filter((c) => c.status === 'open')
      const relayed = open.filter((c) => isRelayAddress(c.remoteAddr.toString())).length
      const direct = open.find((c) => !isRelayAddress(c.remoteAddr.toString()))
      send({
        type: 'discovery.connections',
        peerId: remotePeer.toString(),
        direct: open.length - relayed,
        relayed,
        remoteAddr: (direct?.remoteAddr ?? remoteAddr).toString()
      })
    }
    listen(libp2p, 'connection:open', sendConnections)
    listen(libp2p, 'connection:close', sendConnections)
    for (const peerId of bootstrapPeers) send({ type: 'discovery.found', source: 'bootstrap', peerId })
    sendAddresses()
    return () => { for (const remove of removers) remove() }
  })
}
