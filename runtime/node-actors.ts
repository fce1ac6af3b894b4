import { fromCallback, fromPromise } from 'xstate'
import type { EventObject } from 'xstate'
import type { ComponentLogger, PrivateKey } from '@libp2p/interface'
import { createLibp2pNode } from '../actors/libp2p-node.js'
import { asLibp2p } from '../actors/libp2p-node.js'
import type { DmsLibp2p } from '../actors/libp2p-node.js'
import type { HostControl } from './host-control.js'
import type { Libp2pHandle } from '../machines/contracts.js'
import { hostMachine } from '../machines/host.js'
import { startLibp2p, stopLibp2p, hostOperation } from '../actors/libp2p-host.js'
import { libp2pBridge } from '../actors/libp2p-bridge.js'
import type { CreateLibp2pInput } from '../machines/host.js'
import type { NodeInput, ServicesEvent } from '../machines/node.js'
import type { NodeConfig } from './config.js'
import type { HostAttachment } from './host-attachment.js'
import type { NetworkKind } from './events.js'
import { agentVersion } from './version.js'
import { BID_REQUEST_TOPIC } from '../actors/wire/bid-request.js'
import { DmsError } from './errors.js'
import { logged } from '../actors/log.js'

/** The peer ids named by `/p2p/<id>` in bootstrap multiaddrs. */
const bootstrapPeerIds = (addresses: string[]): string[] => addresses.flatMap((address) => /\/p2p\/([^/]+)$/.exec(address)?.[1] ?? [])

/** The node machine's input, from the configuration. */
export function nodeInput (config: NodeConfig): NodeInput {
  return {
    listen: config.listen,
    bootstrap: config.bootstrap,
    redialBaseMs: config.redialBaseMs,
    redialMaxMs: config.redialMaxMs,
    forgetAfterMs: config.forgetPeersAfterMs,
    maxKnownPeers: config.maxKnownPeers
  }
}

export interface NodeActorsInit {
  config: NodeConfig
  /** The node's logger: libp2p logs through it, and a failed detach is recorded in it. */
  logger: ComponentLogger
  privateKey: PrivateKey
  attachments: HostAttachment[]
  /**
   * What the features set for the hosts they build: the private host's protector (read at each
   * (re)start, so a new key takes effect) and who may use the public host's member relay.
   */
  hosts?: Pick<HostControl, 'privateProtector' | 'memberRelay'>
  /** Told of every libp2p node created, so the runtime can make sure none outlives the node. */
  created?: (libp2p: DmsLibp2p) => void
}

/**
 * The I/O implementations the node machine names, closed over what must not
 * travel in events or context (the private key, network keys, services).
 */
export function nodeActors (init: NodeActorsInit) {
  const log = init.logger.forComponent('dms:node')
  // A restart detaches from the old host and attaches to the new one: never overlap the two.
  const previousDetach: Record<NetworkKind, Promise<void>> = { public: Promise.resolve(), private: Promise.resolve() }
  const createLibp2p = fromPromise<Libp2pHandle, CreateLibp2pInput>(async ({ input }) => {
      const protector = input.network === 'private' ? init.hosts?.privateProtector() : undefined
      const swarmRelay = input.network === 'private' ? input.relay : undefined
      const memberRelay = input.network === 'public' ? init.hosts?.memberRelay() : undefined
      if (input.network === 'private' && protector == null) throw new DmsError('SWARM_FAILED', 'no private network key is configured')
      const libp2p = await createLibp2pNode({
        privateKey: init.privateKey,
        logger: init.logger,
        listen: input.listen,
        dialTimeoutMs: init.config.dialTimeoutMs,
        // announced addresses name the public host's ports: the private host listens on its own
        discovery: input.network === 'private' ? { ...init.config.discovery, announce: [] } : init.config.discovery,
        agentVersion,
        pubsub: init.config.pubsub,
        trustedPeers: bootstrapPeerIds(init.config.bootstrap),
        sparseTopics: [BID_REQUEST_TOPIC],
        ...(protector != null ? { connectionProtector: protector } : {}),
        ...(swarmRelay != null ? { swarmRelay } : {}),
        ...(memberRelay != null ? { memberRelay } : {}),
        // members must learn where the private host listens, also on a public IP AutoNAT never confirms there
        announceListenAddresses: input.network === 'private'
      })
      init.created?.(libp2p)
      return libp2p
  })
  return {
    host: hostMachine.provide({ actors: { createLibp2p, startLibp2p, stopLibp2p, libp2pBridge, hostOperation } }),
    services: fromCallback<EventObject, { libp2p: Libp2pHandle, network: NetworkKind }>(({ input, sendBack }) => {
      const { network } = input
      let detached = false
      const attached: HostAttachment[] = []
      void (async () => {
        await previousDetach[network]
        for (const attachment of init.attachments.filter((a) => (a.networks ?? ['public']).includes(network))) {
          if (detached) return
          try {
            await attachment.attach(asLibp2p(input.libp2p), network)
            attached.push(attachment)
          } catch (err) {
            if (!detached) sendBack({ type: 'services.failed', network, error: `${attachment.name} could not attach: ${(err as Error).message}` } satisfies ServicesEvent & { network: NetworkKind })
            return
          }
        }
        if (!detached) sendBack({ type: 'services.ready', network } satisfies ServicesEvent & { network: NetworkKind })
      })()
      return () => {
        detached = true
        previousDetach[network] = Promise.all(attached.reverse().map(async (attachment) => { await attachment.detach(network).catch(logged(log, `detach ${attachment.name} from the ${network} host`)) })).then(() => {})
      }
    })
  }
}
