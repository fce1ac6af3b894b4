import { fromCallback } from 'xstate'
import type { EventObject } from 'xstate'
import { messengerMachine } from '../machines/messenger.js'
import type { MessengerActorEvent, MessengerCounters } from '../machines/messenger.js'
import type { FeatureActors } from './feature-actors.js'
import type { HostAttachment } from './host-attachment.js'
import type { NetworkKind } from './events.js'

/** How often a messenger actor reads its counters. */
const SAMPLE_MS = 1000

/** systemId of a host's messenger actor. */
export const messengerSystemId = (network: NetworkKind): string => `messenger.${network}`

/**
 * Runs a messenger actor (`messenger.public`, `messenger.private`) beside each
 * running host: the node's inspector shows its channels, pending requests and
 * counters under the node.
 */
export function messengerActorAttachment (init: { features: FeatureActors, stats: () => Record<NetworkKind, MessengerCounters> }): HostAttachment {
  const sample = fromCallback<EventObject, { network: NetworkKind }>(({ input, sendBack }) => {
    let last = ''
    const read = (): void => {
      const counters = init.stats()[input.network]
      const text = JSON.stringify(counters)
      if (text === last) return
      last = text
      sendBack({ type: 'messenger.sampled', counters } satisfies MessengerActorEvent)
    }
    read()
    const timer = setInterval(read, SAMPLE_MS)
    timer.unref()
    return () => { clearInterval(timer) }
  })
  const logic = messengerMachine.provide({ actors: { sample } })
  return {
    name: 'messenger actor',
    networks: ['public', 'private'],
    attach: async (_libp2p, network) => {
      init.features.stop(messengerSystemId(network))
      init.features.run(messengerSystemId(network), logic, { input: { network } })
    },
    detach: async (network) => { init.features.stop(messengerSystemId(network)) }
  }
}
