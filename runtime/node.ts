import '../actors/polyfill.js'
import { randomUUID } from 'node:crypto'
import { createActor } from 'xstate'
import type { Actor, InspectionEvent } from 'xstate'
import { nodeMachine } from '../machines/node.js'
import type { NodeEmitted } from '../machines/node.js'
import { parseConfig } from './config.js'
import { checkDial, checkListen, type DialOptions, type DialResult } from './dial-options.js'
import type { NodeConfig } from './config.js'
import { DmsError, describeError } from './errors.js'
import { loadOrCreateIdentity } from './identity.js'
import type { Identity } from './identity.js'
import { nodeActors, nodeInput } from './node-actors.js'
import { readNodeStatus, readStatus } from './status.js'
import { FeatureActors } from './feature-actors.js'
import { FeatureLifecycle } from './feature-lifecycle.js'
import { NodeMetrics } from './metrics.js'
import { peerCounts, registerNodeMetrics, requestHistogram } from './node-metrics.js'
import { HostControl } from './host-control.js'
import { MessageRouter } from './message-router.js'
import { EventBus } from './event-bus.js'
import { registerComponents, type NodeComponents } from './node-components.js'
import { discoveryAttachment } from './discovery/discovery-attachment.js'
import { messengerActorAttachment } from './messenger-actor.js'
import { sanitizedInspector } from './inspect/sanitized-inspector.js'
import { LiveLibp2p, hangUp, pingPeer } from './peer-links.js'
import type { MessageHandler, MessengerStats, RequestOptions, SendOptions } from '../actors/messenger/messenger.js'
import type { BidRequest, BidRequestInit } from '../actors/wire/bid-request.js'
import { checkSubscription, type NetworkKind, type NodeEvent, type NodeEventMap, type NodeEventType, type NodeStatus } from './events.js'
import { DataDirLock } from './data-dir-lock.js'
import type { PingResult } from '../actors/ping-client.js'
import type { ComponentLogger } from '@libp2p/interface'
import { NODE_ONLY_KEYS, buildFeatures, checkInspect, checkLogger, checkMetrics, checkStartTimeout, type CreateNodeInit, type FeatureFactories, type FeaturesOf } from './node-init.js'
import { logged, type Logger } from '../actors/log.js'

export type { CreateNodeInit, DialOptions, DialResult, FeatureFactories, FeaturesOf }

type RootActor = Actor<typeof nodeMachine>

/**
 * Create a dms-network node. The configuration is validated at once (throws a DmsError
 * CONFIG_INVALID naming the bad field); nothing touches the disk or the network until `start()`.
 *
 * @example
 * const node = createNode({ dataDir: './a', listen: ['/ip4/127.0.0.1/tcp/4001'], features: { swarm: swarm() } })
 * await node.start()
 * await node.features.swarm.join('/ip4/127.0.0.1/tcp/4002/p2p/12D3Koo...')
 */
export function createNode<F extends FeatureFactories = {}> (init: CreateNodeInit<F> = {}): DmsNode<F> {
  return new DmsNode<F>(init)
}

/**
 * One dms-network node: one actor system whose root (the node machine) runs the
 * hosts, the peers, the messengers, discovery and every feature as its
 * children. This class holds the components features get and the public API; it decides nothing itself.
 */
export class DmsNode<F extends FeatureFactories = {}> {
  readonly config: NodeConfig
  /** The features created with the node (`createNode({ features: { swarm: swarm() } })`), by name. */
  readonly features: FeaturesOf<F>
  /** Actors addressable by systemId, from this node and (for the event types each lists) from remote peers. */
  readonly actors: FeatureActors
  /** The node's Prometheus metrics (docs/metrics.md): `await node.metrics.text()` or `.registry()`. */
  readonly metrics: NodeMetrics
  private readonly startTimeoutMs: number
  private identity?: Identity
  private root?: RootActor
  private rootError?: string
  private readonly inspect?: (event: InspectionEvent) => void
  private readonly events: EventBus
  private readonly hosts: HostControl
  private readonly messages: MessageRouter
  private initializing?: Promise<void>
  /** start() and stop() run one after the other, in the order they were called. */
  private order: Promise<unknown> = Promise.resolve()
  /** Every libp2p node this node's actors created and that has not stopped. */
  private readonly liveLibp2p = new LiveLibp2p()
  /** stop() ran since the last start(): status says stopped, not idle. */
  private stopped = false
  /** Held from start() to stop(): one running node per data dir. */
  private readonly lock: DataDirLock
  private readonly logger: ComponentLogger
  private readonly log: Logger
  private readonly hooks: FeatureLifecycle

  constructor (init: CreateNodeInit<F>) {
    this.config = parseConfig(init, NODE_ONLY_KEYS)
    this.lock = new DataDirLock(this.config.dataDir)
    this.startTimeoutMs = checkStartTimeout(init.startTimeoutMs)
    this.logger = checkLogger(init.logger)
    this.log = this.logger.forComponent('dms:node')
    this.hooks = new FeatureLifecycle(this.log)
    this.events = new EventBus(this.log)
    const inspect = checkInspect(init.inspect)
    this.inspect = inspect == null ? undefined : sanitizedInspector(inspect)
    this.actors = new FeatureActors(() => this.root)
    this.hosts = new HostControl({
      root: () => this.root,
      startPublic: async () => { await this.serialised(async () => { await this.startNow() }) },
      // by default the private host listens on the public host's interfaces (new ports), so other machines reach it
      defaultPrivateListen: () => this.config.listen.map((address) => address.replace(/\/(tcp|udp)\/\d+/, '/$1/0')),
      startTimeoutMs: this.startTimeoutMs
    })
    const emit = (event: NodeEvent): void => { this.events.emit(event) }
    this.metrics = new NodeMetrics(checkMetrics(init.metrics), init.metrics !== undefined)
    this.messages = new MessageRouter({ config: this.config, hosts: this.hosts, features: this.actors, emit, onPrivate: (peer) => this.connectedOnPrivate(peer), requestSeconds: requestHistogram(this.metrics) })
    registerNodeMetrics(this.metrics, { hosts: this.hosts, events: this.events, messengerStats: () => this.messages.stats(), peers: () => peerCounts(readStatus(this.root, '').peers) })
    for (const attachment of this.messages.attachments()) this.hosts.addAttachment(attachment)
    this.hosts.addAttachment(messengerActorAttachment({ features: this.actors, stats: () => this.messages.stats() }))
    this.hosts.addAttachment(discoveryAttachment({ config: this.config, features: this.actors, emit }))
    const components: NodeComponents = {
      config: this.config,
      logger: this.logger,
      identity: { peerId: () => this.peerId, privateKey: () => this.requireIdentity().privateKey },
      hosts: this.hosts, messages: this.messages, events: this.events, actors: this.actors, lifecycle: this.hooks, metrics: this.metrics,
      dial: async (target, options) => await this.dial(target, options),
      started: () => this.root != null
    }
    registerComponents(this, components)
    this.features = buildFeatures(init.features, components)
  }

  /** This node's peer id (available after `init()`). */
  get peerId (): string {
    return this.requireIdentity().peerId
  }

  /** The root actor of the node's actor system, for inspection and advanced use. */
  get actor (): RootActor | undefined {
    return this.root
  }

  /** Load (or create) the identity and build the actor system. Idempotent. */
  async init (): Promise<void> {
    this.initializing ??= this.buildSystem().finally(() => { this.initializing = undefined })
    await this.initializing
  }

  /** Start the public host and its services; resolves once the node can send and receive. */
  async start (): Promise<void> {
    await this.serialised(async () => { await this.metrics.ready(); await this.startNow() }) // unusable metrics: CONFIG_INVALID, before anything starts
  }

  /** Stop the host and every actor. A stopped node can be started again. */
  async stop (): Promise<void> {
    await this.serialised(async () => { await this.stopNow() })
  }

  /** Subscribe to one public event type; returns the unsubscribe function. */
  on<K extends NodeEventType> (type: K, listener: (event: { type: K } & NodeEventMap[K]) => void): () => void
  on (type: '*', listener: (event: NodeEvent) => void): () => void
  on (type: string, listener: (event: never) => void): () => void {
    checkSubscription(type, listener)
    return this.events.on(type as '*', listener as (event: NodeEvent) => void)
  }

  /** Dial a peer by peer id (known addresses) or multiaddr, on either host. Error codes: docs/errors.md. */
  async dial (target: string, options: DialOptions = {}): Promise<DialResult> {
    checkDial(target, options, this.identity?.peerId)
    const dialMs = options.timeoutMs ?? this.config.dialTimeoutMs
    // by peer id with the DHT on, a lookup may come between a failed and a second dial
    const lookupMs = this.config.discovery.dht && !target.startsWith('/') ? dialMs + 15_000 : 0
    const event = { type: 'host.dial' as const, reqId: randomUUID(), target, ...(options.timeoutMs != null ? { timeoutMs: options.timeoutMs } : {}) }
    return await this.hosts.request(event, dialMs + lookupMs + 5000, options.network, options.signal) as DialResult
  }

  /** Listen on another multiaddr (TCP, or /p2p-circuit) at run time; resolves with all listen addresses. BAD_ADDRESS, LISTEN_FAILED. */
  async listen (address: string): Promise<string[]> {
    checkListen(address)
    return (await this.hosts.request({ type: 'host.listen', reqId: randomUUID(), address }, 15_000) as { addresses: string[] }).addresses
  }

  /** Send a one-way message (to self too, through the same codec); resolves once the stream took it. Codes: docs/errors.md. */
  async send (peer: string, type: string, body: unknown, options: SendOptions = {}): Promise<void> {
    await this.messages.send(peer, type, body, options)
  }

  /** Send a request and wait for the reply; a refusal is REMOTE_ERROR with the receiver's `remoteCode`. Codes: docs/errors.md. */
  request<T = unknown> (peer: string, type: string, body: unknown, options: RequestOptions = {}): Promise<T> {
    return this.messages.request<T>(peer, type, body, options)
  }

  /** Handle one message type, from any peer on any host; the return value answers requests. */
  handle (type: string, handler: MessageHandler): () => void {
    return this.messages.handle(type, handler)
  }

  /** Send a typed event to the actor with systemId `actor` on `peer` (it must accept that type from remote peers). */
  async sendToActor (peer: string, actor: string, event: { type: string } & Record<string, unknown>, options: RequestOptions = {}): Promise<void> {
    await this.messages.sendToActor(peer, actor, event, options)
  }

  /** Publish a job bid request on gossipsub; the requester is this node. */
  async publishJob (bid: BidRequestInit): Promise<{ recipients: number }> {
    return await this.messages.publishJob(bid)
  }

  /** Receive validated job bid requests from other nodes. */
  onJob (listener: (bid: BidRequest, from: string) => void): () => void {
    return this.messages.onJob(listener)
  }

  /** Messenger counters of both hosts. */
  messengerStats (): Record<NetworkKind, MessengerStats> {
    return this.messages.stats()
  }

  /** Round-trip time to a peer in ms, to the µs (libp2p ping; dials it when not connected). PING_FAILED, BAD_PEER_ID, HOST_NOT_RUNNING. */
  async ping (peer: string): Promise<number> {
    return (await this.pingRoute(peer)).rttMs
  }

  /** `ping`, with the connection the ping took: its remote address and whether it is relayed. */
  async pingRoute (peer: string): Promise<PingResult> {
    return await pingPeer(this.hosts.libp2p(this.messages.networkFor(peer)), peer, this.config.dialTimeoutMs)
  }

  /** Close every connection to a peer on both hosts (a bootstrap peer is redialled, as always when it drops). */
  async disconnect (peer: string): Promise<{ closed: number }> {
    return await hangUp(this.hosts, peer)
  }

  /** A snapshot of the host, every peer actor, and each running host's discovery, reachability and job topic. */
  status (): NodeStatus {
    return readNodeStatus({ root: this.root, peerId: this.identity?.peerId ?? '', rootError: this.rootError, hosts: this.hosts, features: this.actors, discovery: this.config.discovery, stopped: this.stopped })
  }

  // ---- lifecycle ---------------------------------------------------------------------------

  private requireIdentity (): Identity {
    if (this.identity == null) throw new DmsError('HOST_NOT_RUNNING', 'the node has no identity yet: call init() or start() first')
    return this.identity
  }

  private async buildSystem (): Promise<void> {
    if (this.root != null) return
    this.identity ??= await loadOrCreateIdentity(this.config.dataDir)
    const root = createActor(nodeMachine.provide({
      actors: nodeActors({
        config: this.config,
        logger: this.logger,
        privateKey: this.identity.privateKey,
        attachments: this.hosts.attachments,
        hosts: this.hosts,
        created: (libp2p) => { this.liveLibp2p.track(libp2p) }
      })
    }), { systemId: 'node', input: nodeInput(this.config), ...(this.inspect != null ? { inspect: this.inspect } : {}) })
    // An unobserved actor error is rethrown from a timer and would kill the embedding process.
    root.subscribe({ error: (err) => { this.rootError = describeError(err) } })
    root.on('*', (event: NodeEmitted) => { this.events.emit(event) })
    root.start()
    this.root = root
  }

  private async serialised (operation: () => Promise<void>): Promise<void> {
    const run = this.order.then(operation, operation)
    this.order = run.catch(() => {}) // the caller gets the outcome from `run`; the chain only keeps the order
    await run
  }

  private async startNow (): Promise<void> {
    await this.lock.acquire()
    this.stopped = false
    try {
      await this.init()
      await this.hosts.startPublicHost()
      await this.hooks.startAll()
    } catch (err) {
      // a node that did not start holds nothing: another may take the data dir
      if (this.hosts.libp2p('public') == null) await this.lock.release()
      throw err
    }
  }

  private async stopNow (): Promise<void> {
    await this.initializing
    const root = this.root
    if (root == null) return
    await this.hooks.stopAll()
    await this.hosts.stopPrivateHost().catch(logged(this.log, 'stop the private host'))
    await this.hosts.stopPublicHost().catch(logged(this.log, 'stop the public host'))
    // whatever the machines managed, no libp2p node may outlive the node: also one
    // created or starting in a host restart that was still under way
    await this.liveLibp2p.stopAll()
    // the feature actors are children of the root: they stop with it (features.run starts them per run)
    root.stop()
    this.root = undefined
    this.stopped = true
    this.actors.forgetAll()
    await this.lock.release()
    // libp2p frees a closed server's handle, and runs its stop-time timers, only when the event loop
    // turns: a caller that restarts in a loop of promises would keep every stopped libp2p node alive
    await new Promise((resolve) => setImmediate(resolve))
  }

  private connectedOnPrivate (peer: string): boolean {
    return (this.root?.getSnapshot().context.peers[`private:${peer}`]?.getSnapshot().context.connections.length ?? 0) > 0
  }
}
