import type { DmsLibp2p } from '../actors/libp2p-node.js'
import type { NetworkKind } from './events.js'

/**
 * Something that hangs off a running libp2p host (the messenger, the swarm key
 * handler, the VPN data plane): attached whenever a host starts or restarts,
 * detached when it stops.
 */
export interface HostAttachment {
  /** Shown in errors: "messenger could not attach: ..." */
  readonly name: string
  /** Which hosts it attaches to. @default ['public'] */
  readonly networks?: NetworkKind[]
  attach: (libp2p: DmsLibp2p, network: NetworkKind) => Promise<void>
  /** Called when that network's host stops or restarts. */
  detach: (network: NetworkKind) => Promise<void>
}
