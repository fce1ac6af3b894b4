import { fromCallback } from 'xstate'
import type { EventObject } from 'xstate'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import type { DmsLibp2p } from '../libp2p-node.js'
import type { DiscoveryFact } from '../../machines/discovery.js'
import { dhtHasPeers } from './dht-ready.js'

export interface RendezvousOptions {
  /** Nodes advertising the same namespace find each other. */
  namespace: string
  /** Time between rounds. */
  intervalMs: number
  /** Time before the first round (the DHT needs a peer or two first). */
  firstRoundMs: number
  /** Most peers dialled per round. */
  maxDials: number
  /** Time each dial may take. */
  dialTimeoutMs: number
  /** Time a round's advertise or lookup may take. */
  queryTimeoutMs: number
}

/** The content id a namespace is advertised under: sha256 of `/dms/rendezvous/<namespace>`, raw codec. */
export async function rendezvousKey (namespace: string): Promise<CID> {
  return CID.createV1(raw.code, await sha256.digest(new TextEncoder().encode(`/dms/rendezvous/${namespace}`)))
}

/** Most providers read from one lookup. */
const MAX_PROVIDERS = 200

/**
 * Rendezvous through the DHT, as the Go DMS does with libp2p's routing
 * discovery: each round the host advertises itself as a provider of the
 * namespace key, looks the key up, reports every provider as found, and dials
 * up to `maxDials` it is not connected to. Needs the DHT service.
 */
export function rendezvousLoop (libp2p: DmsLibp2p, options: RendezvousOptions) {
  return fromCallback<EventObject>(({ sendBack }) => {
    const send = (fact: DiscoveryFact): void => {
      try { sendBack(fact) } catch { /* the machine is gone */ }
    }
    const stop = new AbortController()
    const sleep = async (ms: number): Promise<void> => {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, ms)
        stop.signal.addEventListener('abort', () => { clearTimeout(timer); resolve() }, { once: true })
      })
    }
    const round = async (key: CID): Promise<void> => {
      const self = libp2p.peerId.toString()
      let advertiseError: string | undefined
      await dhtHasPeers(libp2p, AbortSignal.any([stop.signal, AbortSignal.timeout(options.queryTimeoutMs)]))
      try {
        await libp2p.contentRouting.provide(key, { signal: AbortSignal.any([stop.signal, AbortSignal.timeout(options.queryTimeoutMs)]) })
      } catch (err) {
        advertiseError = `advertise: ${(err as Error).message}`
      }
      const toDial: Parameters<DmsLibp2p['dial']>[0][] = []
      let providers = 0
      try {
        for await (const provider of libp2p.contentRouting.findProviders(key, { signal: AbortSignal.any([stop.signal, AbortSignal.timeout(options.queryTimeoutMs)]) })) {
          const peerId = provider.id.toString()
          if (peerId === self) continue
          providers++
          send({ type: 'discovery.found', source: 'rendezvous', peerId })
          if (libp2p.getConnections(provider.id).length === 0 && toDial.length < options.maxDials) {
            toDial.push(provider.multiaddrs.length > 0 ? provider.multiaddrs : provider.id)
          }
          if (providers >= MAX_PROVIDERS) break
        }
      } catch (err) {
        if (stop.signal.aborted) return
        // a lookup that timed out still reports what it found
        if (providers === 0) { send({ type: 'rendezvous.failed', error: `find: ${(err as Error).message}` }); return }
      }
      const dials = await Promise.allSettled(toDial.map(async (target) => await libp2p.dial(target, { signal: AbortSignal.timeout(options.dialTimeoutMs) })))
      if (stop.signal.aborted) return
      send({ type: 'rendezvous.round', providers, dialled: dials.filter((d) => d.status === 'fulfilled').length })
      if (advertiseError != null) send({ type: 'rendezvous.failed', error: advertiseError })
    }
    void (async () => {
      const key = await rendezvousKey(options.namespace)
      await sleep(options.firstRoundMs)
      while (!stop.signal.aborted) {
        await round(key).catch((err: unknown) => { send({ type: 'rendezvous.failed', error: (err as Error).message }) })
        await sleep(options.intervalMs)
      }
    })()
    return () => { stop.abort() }
  })
}
