import type { ComponentLogger, PrivateKey } from '@libp2p/interface'
import type { NodeConfig } from './config.js'
import type { FeatureActors } from './feature-actors.js'
import type { FeatureLifecycle } from './feature-lifecycle.js'
import type { NodeMetrics } from './metrics.js'
import type { HostControl } from './host-control.js'
import type { MessageRouter } from './message-router.js'
import type { EventBus } from './event-bus.js'
import type { NetworkKind } from './events.js'
import { DmsError } from './errors.js'

/**
 * What a feature (swarm, VPN) gets of its node, the way js-libp2p services get
 * their components: narrow parts, not the whole node. The private key is here
 * and nowhere in the node's public API.
 */
export interface NodeComponents {
  readonly config: NodeConfig
  /** The node's logger: `logger.forComponent('dms:swarm')` gives a feature its scoped one (the embedder's, when it gave createNode one). */
  readonly logger: ComponentLogger
  readonly identity: {
    /** This node's peer id (after `init()`). */
    peerId: () => string
    /** The identity key, for features that sign and seal; never log it, put it in context or events, or send it. */
    privateKey: () => PrivateKey
  }
  /** The public and private hosts, and what attaches to them. */
  readonly hosts: HostControl
  /** Send, request and handle typed messages. */
  readonly messages: Pick<MessageRouter, 'send' | 'request' | 'handle' | 'sendToActor'>
  /** Public events: emit a feature's own, subscribe to others'. */
  readonly events: EventBus
  /** The node's actor system: run a feature's actor as a child of the node. */
  readonly actors: FeatureActors
  /** Start and stop hooks: `lifecycle.add({ name, stop })` releases a feature's timers and devices on every node stop. */
  readonly lifecycle: Pick<FeatureLifecycle, 'add'>
  /** The node's metrics catalogue: a feature adds its gauges and counters, read at each scrape. */
  readonly metrics: Pick<NodeMetrics, 'gauge' | 'counter' | 'histogram'>
  /** Dial a peer id or multiaddr on the public host (through the node, so peer actors follow). */
  dial: (target: string, options?: { network?: NetworkKind }) => Promise<{ peerId: string, remoteAddr: string }>
  /** The node was started (its actor system exists). */
  started: () => boolean
}

const registry = new WeakMap<object, NodeComponents>()

/** Called by the node that owns these components. */
export function registerComponents (node: object, components: NodeComponents): void {
  registry.set(node, components)
}

/** The components of a node, for features built on it (`createSwarm(node)`, `createVpn(node)`). */
export function componentsOf (node: object): NodeComponents {
  const components = registry.get(node)
  if (components == null) throw new DmsError('CONFIG_INVALID', 'not a dms-network node (use createNode())')
  return components
}
