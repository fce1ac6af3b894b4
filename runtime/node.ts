import '../actors/polyfill.js'
import { randomUUID } from 'node:crypto'
import { createActor, waitFor } from 'xstate'
import type { Actor, InspectionEvent } from 'xstate'
import { nodeMachine } from '../machines/node.js'
import type { NodeEmitted } from '../machines/node.js'
import type { HostReply } from '../machines/host.js'
import { parseConfig } from './config.js'
import type { NodeConfig, NodeConfigInit } from './config.js'
import { DmsError, describeError } from './errors.js'
import { loadOrCreateIdentity } from './identity.js'
import type { Identity } from './identity.js'
import { nodeActors } from './node-actors.js'
import type { HostAttachment } from './host-attachment.js'
import { readStatus } from './status.js'
import { FeatureActors } from './feature-actors.js'
import { discoveryAttachment, discoverySystemId } from './discovery/discovery-attachment.js'
import { readDiscoveryStatus } from './discovery/discovery-status.js'
import { sanitizedInspector } from './inspect/sanitized-inspector.js'
import type { InspectObserver } from './inspect/sanitized-inspector.js'
import { createMessenger } from '../actors/messenger/messenger.js'
import { ByteBudget } from '../actors/messenger/byte-budget.js'
import { stopWhenStarted } from '../actors/libp2p-host.js'
import type { Messenger, MessageHandler, MessengerStats } from '../actors/messenger/messenger.js'
import type { BidRequest, BidRequestInit } from '../actors/wire/bid-request.js'
import { BID_REQUEST_TOPIC } from '../actors/wire/bid-request.js'
import type { NetworkKind, NodeEvent, NodeEventMap, NodeEventType, NodeStatus } from './events.js'
import type { DmsLibp2p, ProtectorFactory } from '../actors/libp2p-node.js'
import type { PrivateKey } from '@libp2p/interface'
import { checkPeerId, parsePeerId } from './peer-id.js'
import { explainNetworkError } from '../actors/network-errors.js'
import { log } from '../actors/log.js'

export interface CreateNodeInit extends NodeConfigInit {
  /**
   * Sees every actor's events and snapshots, sanitised to plain data (no key
   * material, no libp2p objects) before they leave the runtime.
   */
  inspect?: InspectObserver
  /** How long `start()` waits for the host and its services. @default 30000 */
  startTimeoutMs?: number
}

type RootActor = Actor<typeof nodeMachine>

/**
 * Create a dms-network node. The configuration is validated at once (throws a
 * DmsError CONFIG_INVALID naming the bad field); nothing touches the disk or the
 * network until `init()`/`start()`.
 *
 * @example
 * const node = createNode({ dataDir: './a', listen: ['/ip4/127.0.0.1/tcp/4001'] })
 * await node.start()
 * node.on('peer.connected', ({ peerId }) => console.log('hello', peerId))
 * await node.dial('/ip4/127.0.0.1/tcp/4002/p2p/12D3Koo...')
 */
export function createNode (init: CreateNodeInit = {}): DmsNode {
  return new DmsNode(init)
}

export class DmsNode {
  readonly config: NodeConfig
  private readonly init_: CreateNodeInit
  private identity?: Identity
  private root?: RootActor
  private readonly attachments: HostAttachment[] = []
  private readonly listeners = new Map<string, Set<(event: NodeEvent) => void>>()
  private rootError?: string
  private readonly inspect?: (event: InspectionEvent) => void
  private privateProtector?: () => ProtectorFactory | undefined
  /** Swarm, VPN and other feature actors, addressable by remote peers through their allow-lists. */
  readonly features: FeatureActors
  /** One messenger per host; a message goes out on the private host when the peer is connected there. */
  private readonly messengers: Record<NetworkKind, Messenger>
  private initializing?: Promise<void>
  /** start() and stop() run one after the other, in the order they were called. */
  private lifecycle: Promise<unknown> = Promise.resolve()
  /** Every libp2p node this node's actors created and that has not stopped. */
  private readonly liveLibp2p = new Set<DmsLibp2p>()

  constructor (init: CreateNodeInit) {
    this.init_ = init
    this.config = parseConfig(init)
    this.inspect = init.inspect == null ? undefined : sanitizedInspector(init.inspect)
    this.features = new FeatureActors(this.inspect, (systemId, error) => {
      this.dispatch({ type: 'messenger.error', code: 'ACTOR_FAILED', message: `${systemId} failed: ${error}` })
    })
    // both hosts' messengers draw on one budget: the limits are per node
    const budget = new ByteBudget({ perPeer: this.config.maxBufferedBytesPerPeer, total: this.config.maxBufferedBytes })
    // messages handed to handlers that have not finished: four times the partial-frame budget, then the sender's streams pause
    const deliveries = new ByteBudget({ perPeer: 4 * this.config.maxBufferedBytesPerPeer, total: 4 * this.config.maxBufferedBytes })
    const messenger = (network: NetworkKind): Messenger => {
      const created = createMessenger({
        maxFrameBytes: this.config.maxFrameBytes,
        requestTimeoutMs: this.config.requestTimeoutMs,
        frameDeadlineMs: this.config.frameDeadlineMs,
        budget,
        deliveries,
        deliverToActor: (actor, event, from) => this.features.deliver(actor, event, from),
        onError: (error) => { this.dispatch({ type: 'messenger.error', ...error }) }
      })
      this.attachments.push({
        name: `messenger (${network})`,
        networks: [network],
        attach: async (libp2p) => { await created.attach(libp2p) },
        detach: async () => { await created.detach() }
      })
      return created
    }
    this.messengers = { public: messenger('public'), private: messenger('private') }
    for (const created of Object.values(this.messengers)) created.onJob((bid, from) => { this.dispatch({ type: 'job.received', from, bid }) })
    this.attachments.push(discoveryAttachment({ config: this.config, features: this.features, emit: (event) => { this.dispatch(event) } }))
  }

  /** This node's peer id (available after `init()`). */
  get peerId (): string {
    if (this.identity == null) throw new DmsError('HOST_NOT_RUNNING', 'the node has no identity yet: call init() or start() first')
    return this.identity.peerId
  }

  /** The root actor of the node's actor system, for inspection and advanced use. */
  get actor (): RootActor | undefined {
    return this.root
  }

  /** Add something to attach to every running host (used by the messenger, swarm and VPN). */
  addAttachment (attachment: HostAttachment): void {
    if (this.root != null) throw new Error('attachments must be added before init()')
    this.attachments.push(attachment)
  }

  /**
   * Where the private host gets its connection protector: called at every
   * (re)start of the private host, so a rotated key takes effect on restart.
   */
  setPrivateProtector (source: (() => ProtectorFactory | undefined) | undefined): void {
    this.privateProtector = source
  }

  /** Start the private host (a protector must be set); resolves with its addresses once its services are ready. */
  async startPrivateHost (options: { listen?: string[] } = {}): Promise<string[]> {
    // never brings a stopped node back: a feature finishing late work after stop() must not leave a host behind
    const root = this.root
    if (root == null) throw new DmsError('HOST_NOT_RUNNING', 'the node is not started')
    if (this.privateHostState() === 'running') return this.privateAddresses()
    // by default the private host listens on the public host's interfaces (new ports), so other machines reach it
    const listen = options.listen ?? this.config.listen.map((address) => address.replace(/\/(tcp|udp)\/\d+/, '/$1/0'))
    await this.awaitPrivate(() => { root.send({ type: 'private.start', listen }) }, 'ready')
    return this.privateAddresses()
  }

  /** Rebuild the private host (same ports) with the protector's current key. */
  async restartPrivateHost (): Promise<string[]> {
    const root = this.root
    if (root == null || this.privateHostState() == null) throw new DmsError('HOST_NOT_RUNNING', 'the private host is not running')
    await this.awaitPrivate(() => { root.send({ type: 'private.restart' }) }, 'ready')
    return this.privateAddresses()
  }

  /** Stop the private host; the public host is untouched. */
  async stopPrivateHost (): Promise<void> {
    const root = this.root
    if (root == null || this.privateHostState() == null) return
    await this.awaitPrivate(() => { root.send({ type: 'private.stop' }) }, 'stopped')
  }

  /** Stop only the public host (a swarm member leaving the public network); actors and the private host stay. */
  async suspendPublicHost (): Promise<void> {
    const host = this.hostActor()
    if (host == null || this.hostState() !== 'running') return
    host.send({ type: 'host.stop' })
    await waitFor(host, (s) => s.matches('stopped') || s.matches('failed'), { timeout: 15_000 })
  }

  /** Start the public host again after `suspendPublicHost()`. */
  async resumePublicHost (): Promise<void> {
    if (this.root == null) throw new DmsError('HOST_NOT_RUNNING', 'the node is not started')
    await this.serialised(async () => { await this.startNow() })
  }

  /** State of the private host, or undefined when there is none. */
  privateHostState (): string | undefined {
    return this.hostStateOf('private')
  }

  /** A host's state from its actor's snapshot: cheap enough for every message (status() is not). */
  private hostStateOf (network: NetworkKind): string | undefined {
    const snapshot = this.hostActor(network)?.getSnapshot() as { value: string | Record<string, string> } | undefined
    if (snapshot == null) return network === 'public' ? 'idle' : undefined
    return typeof snapshot.value === 'string' ? snapshot.value : Object.values(snapshot.value)[0]
  }

  private privateAddresses (): string[] {
    const snapshot = this.root?.system.get('host.private')?.getSnapshot() as { context: { addresses: string[] } } | undefined
    return snapshot?.context.addresses ?? []
  }

  private async awaitPrivate (trigger: () => void, outcome: 'ready' | 'stopped'): Promise<void> {
    const root = this.root!
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => { done(); reject(new DmsError('TIMEOUT', `the private host did not become ${outcome} in time`)) }, this.init_.startTimeoutMs ?? 30_000)
      const subscriptions = [
        root.on(outcome === 'ready' ? 'node.ready' : 'host.stopped', (event) => { if (event.network === 'private') { done(); resolve() } }),
        root.on('host.failed', (event) => { if (event.network === 'private') { done(); reject(new DmsError(hostFailureCode(event.error), `private host: ${event.error}`)) } }),
        root.on('node.services-failed', (event) => { if (event.network === 'private') { done(); reject(new DmsError('HOST_START_FAILED', `private host: ${event.error}`)) } })
      ]
      function done (): void { clearTimeout(timer); for (const s of subscriptions) s.unsubscribe() }
      trigger()
    })
  }

  /** Load (or create) the identity and build the actor system. Idempotent. */
  async init (): Promise<void> {
    this.initializing ??= this.buildSystem().finally(() => { this.initializing = undefined })
    await this.initializing
  }

  private async buildSystem (): Promise<void> {
    if (this.root != null) return
    this.identity ??= await loadOrCreateIdentity(this.config.dataDir)
    const root = createActor(nodeMachine.provide({
      actors: nodeActors({
        config: this.config,
        privateKey: this.identity.privateKey,
        attachments: this.attachments,
        privateProtector: () => this.privateProtector?.(),
        created: (libp2p) => { this.track(libp2p) }
      })
    }), {
      input: {
        listen: this.config.listen,
        bootstrap: this.config.bootstrap,
        redialBaseMs: this.config.redialBaseMs,
        redialMaxMs: this.config.redialMaxMs
      },
      ...(this.inspect != null ? { inspect: this.inspect } : {})
    })
    // An unobserved actor error is rethrown from a timer and would kill the embedding process.
    root.subscribe({ error: (err) => { this.rootError = describeError(err) } })
    root.on('*', (event: NodeEmitted) => { this.dispatch(event) })
    root.start()
    this.root = root
  }

  /** Start the public host and its services; resolves once the node can send and receive. */
  async start (): Promise<void> {
    await this.serialised(async () => { await this.startNow() })
  }

  /** Stop the host and every actor. A stopped node can be started again. */
  async stop (): Promise<void> {
    await this.serialised(async () => { await this.stopNow() })
  }

  private async serialised (operation: () => Promise<void>): Promise<void> {
    const run = this.lifecycle.then(operation, operation)
    this.lifecycle = run.catch(() => {})
    await run
  }

  private async startNow (): Promise<void> {
    await this.init()
    const root = this.root!
    if (this.hostState() === 'running') return
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => { done(); reject(new DmsError('TIMEOUT', 'the node did not start in time')) }, this.init_.startTimeoutMs ?? 30_000)
      const subscriptions = [
        root.on('node.ready', (event) => { if (event.network === 'public') { done(); resolve() } }),
        root.on('host.failed', (event) => { if (event.network === 'public') { done(); reject(new DmsError(hostFailureCode(event.error), event.error)) } }),
        root.on('node.services-failed', (event) => { if (event.network === 'public') { done(); reject(new DmsError('HOST_START_FAILED', event.error)) } }),
        root.on('host.stopped', (event) => { if (event.network === 'public') { done(); reject(new DmsError('HOST_NOT_RUNNING', 'the node was stopped while starting')) } })
      ]
      function done (): void { clearTimeout(timer); for (const s of subscriptions) s.unsubscribe() }
    })
    this.hostActor()!.send({ type: 'host.start' })
    await ready
  }

  private async stopNow (): Promise<void> {
    await this.initializing
    const root = this.root
    if (root == null) return
    await this.stopPrivateHost().catch(() => {})
    const host = this.hostActor()
    if (host != null) {
      host.send({ type: 'host.stop' })
      await waitFor(host, (s) => s.matches('stopped') || s.matches('failed') || s.matches('configured'), { timeout: 15_000 }).catch(() => {})
    }
    // whatever the machines managed, no libp2p node may outlive the node: also one
    // created or starting in a host restart that was still under way
    await Promise.allSettled([...this.liveLibp2p].map(async (libp2p) => { await stopWhenStarted(libp2p) }))
    this.liveLibp2p.clear()
    this.features.stopAll()
    root.stop()
    this.root = undefined
  }

  private track (libp2p: DmsLibp2p): void {
    this.liveLibp2p.add(libp2p)
    libp2p.addEventListener('stop', () => { this.liveLibp2p.delete(libp2p) })
  }

  /** Subscribe to one public event type; returns the unsubscribe function. */
  on<K extends NodeEventType> (type: K, listener: (event: { type: K } & NodeEventMap[K]) => void): () => void
  on (type: '*', listener: (event: NodeEvent) => void): () => void
  on (type: string, listener: (event: never) => void): () => void {
    const set = this.listeners.get(type) ?? new Set()
    set.add(listener as (event: NodeEvent) => void)
    this.listeners.set(type, set)
    return () => { set.delete(listener as (event: NodeEvent) => void) }
  }

  /** Dial a peer by peer id (known addresses) or full multiaddr, on the public host or the private one. */
  async dial (target: string, options: { network?: NetworkKind } = {}): Promise<{ peerId: string, remoteAddr: string }> {
    if (typeof target !== 'string' || target === '') throw new DmsError('BAD_ADDRESS', 'dial needs a peer id or a multiaddr')
    if (!target.startsWith('/')) parsePeerId(target)
    // by peer id with the DHT on, a lookup may come between a failed and a second dial
    const lookupMs = this.config.discovery.dht && !target.startsWith('/') ? this.config.dialTimeoutMs + 15_000 : 0
    return await this.hostRequest({ type: 'host.dial', reqId: randomUUID(), target }, this.config.dialTimeoutMs + lookupMs + 5000, options.network) as { peerId: string, remoteAddr: string }
  }

  /**
   * The node's identity key, for features that sign (the swarm key exchange).
   * Never log it, put it in context or events, or send it anywhere.
   */
  identityKey (): PrivateKey {
    if (this.identity == null) throw new DmsError('HOST_NOT_RUNNING', 'the node has no identity yet: call init() or start() first')
    return this.identity.privateKey
  }

  /** The running libp2p node of a host, for features that open their own streams. */
  libp2p (network: NetworkKind = 'public'): DmsLibp2p | undefined {
    return this.root?.getSnapshot().context.libp2p[network]
  }

  /** Listen on another multiaddr at run time; resolves with all listen addresses. */
  async listen (address: string): Promise<string[]> {
    const result = await this.hostRequest({ type: 'host.listen', reqId: randomUUID(), address }, 15_000) as { addresses: string[] }
    return result.addresses
  }

  /** Send a typed one-way message to a peer (or to this node itself). */
  async send (peer: string, type: string, body: unknown): Promise<void> {
    checkPeerId(peer)
    await this.messengerFor(peer).send(peer, type, body)
  }

  /** Send a request and wait for the reply (rejects with TIMEOUT or the receiver's error). */
  async request<T = unknown> (peer: string, type: string, body: unknown, options: { timeoutMs?: number } = {}): Promise<T> {
    checkPeerId(peer)
    return await this.messengerFor(peer).request<T>(peer, type, body, options)
  }

  /** Handle one message type, from any peer on any host; the return value answers requests. */
  handle (type: string, handler: MessageHandler): () => void {
    const removers = Object.values(this.messengers).map((m) => m.handle(type, handler))
    return () => { for (const remove of removers) remove() }
  }

  /** Send a typed event to the actor with systemId `actor` on `peer` (it must accept that type from remote peers). */
  async sendToActor (peer: string, actor: string, event: { type: string } & Record<string, unknown>, options: { timeoutMs?: number } = {}): Promise<void> {
    checkPeerId(peer)
    await this.messengerFor(peer).sendToActor(peer, actor, event, options)
  }

  /** Publish a job bid request on gossipsub; the requester is this node. */
  async publishJob (bid: BidRequestInit): Promise<{ recipients: number }> {
    return await this.messengers[this.privateHostState() === 'running' && this.hostState() !== 'running' ? 'private' : 'public'].publishJob(bid)
  }

  /** Receive validated job bid requests from other nodes. */
  onJob (listener: (bid: BidRequest, from: string) => void): () => void {
    const removers = Object.values(this.messengers).map((m) => m.onJob(listener))
    return () => { for (const remove of removers) remove() }
  }

  /** Messenger counters of both hosts. */
  messengerStats (): Record<NetworkKind, MessengerStats> {
    return { public: this.messengers.public.stats(), private: this.messengers.private.stats() }
  }

  /** Round-trip time to a peer in ms (libp2p ping; dials it when not connected). */
  async ping (peer: string): Promise<number> {
    const peerId = parsePeerId(peer)
    const libp2p = this.libp2p(this.networkFor(peer))
    if (libp2p == null) throw new DmsError('HOST_NOT_RUNNING', 'the node is not started')
    try {
      return await libp2p.services.ping.ping(peerId, { signal: AbortSignal.timeout(this.config.dialTimeoutMs) })
    } catch (err) {
      throw new DmsError('PING_FAILED', `no ping reply from ${peer}: ${explainNetworkError(err)}`, { cause: err })
    }
  }

  /** Close every connection to a peer on both hosts (a bootstrap peer is redialled, as always when it drops). */
  async disconnect (peer: string): Promise<{ closed: number }> {
    const peerId = parsePeerId(peer)
    let closed = 0
    for (const network of ['public', 'private'] as const) {
      const libp2p = this.libp2p(network)
      if (libp2p == null) continue
      closed += libp2p.getConnections(peerId).length
      await libp2p.hangUp(peerId)
    }
    return { closed }
  }

  /** The host a peer is reached on: the private one when the peer is connected there. */
  private networkFor (peer: string): NetworkKind {
    const onPrivate = this.root?.getSnapshot().context.peers[`private:${peer}`]?.getSnapshot().value
    if (onPrivate === 'connected' || onPrivate === 'identified') return 'private'
    if (this.hostState() !== 'running' && this.privateHostState() === 'running') return 'private'
    return 'public'
  }

  private messengerFor (peer: string): Messenger {
    return this.messengers[this.networkFor(peer)]
  }

  /** A snapshot of the host, every peer actor, and each running host's discovery and reachability. */
  status (): NodeStatus {
    const discovery = (['public', 'private'] as const).flatMap((network) => {
      const snapshot = this.features.get(discoverySystemId(network))?.getSnapshot() as Parameters<typeof readDiscoveryStatus>[0] | undefined
      return snapshot == null ? [] : [readDiscoveryStatus(snapshot, this.config.discovery)]
    })
    const jobs = (['public', 'private'] as const).flatMap((network) => {
      const pubsub = this.libp2p(network)?.services.pubsub as (DmsLibp2p['services']['pubsub'] & { getMeshPeers?: (topic: string) => string[] }) | undefined
      if (pubsub == null) return []
      return [{ network, topic: BID_REQUEST_TOPIC, subscribers: pubsub.getSubscribers(BID_REQUEST_TOPIC).length, mesh: pubsub.getMeshPeers?.(BID_REQUEST_TOPIC).length ?? 0 }]
    })
    return { ...readStatus(this.root, this.identity?.peerId ?? '', this.rootError), discovery, jobs }
  }

  private hostActor (network: NetworkKind = 'public') {
    return this.root?.system.get(network === 'public' ? 'host.public' : 'host.private') as ReturnType<RootActor['system']['get']> | undefined
  }

  private hostState (): string | undefined {
    return this.hostStateOf('public')
  }

  private async hostRequest (event: { type: 'host.dial' | 'host.listen', reqId: string } & Record<string, string>, timeoutMs: number, network: NetworkKind = 'public'): Promise<unknown> {
    const host = this.hostActor(network)
    if (host == null) throw new DmsError('HOST_NOT_RUNNING', network === 'public' ? 'the node is not started' : 'the private host is not running')
    return await new Promise((resolve, reject) => {
      const subscription = host.on('host.reply', (reply: HostReply) => {
        if (reply.reqId !== event.reqId) return
        clear()
        if (reply.ok) resolve(reply.result)
        else reject(new DmsError(reply.code, reply.error))
      })
      const timer = setTimeout(() => { clear(); reject(new DmsError('TIMEOUT', `${event.type} timed out after ${timeoutMs} ms`)) }, timeoutMs)
      function clear (): void { clearTimeout(timer); subscription.unsubscribe() }
      host.send(event as never)
    })
  }

  /** Emit a feature's event (VPN) to subscribers, like the node's own. */
  emit (event: NodeEvent): void {
    this.dispatch(event)
  }

  private dispatch (event: NodeEmitted): void {
    // readiness events are the runtime's own business, not part of the public event table
    log.node('%s %o', event.type, event)
    if (event.type === 'node.ready' || event.type === 'node.services-failed') return
    for (const key of [event.type, '*']) {
      for (const listener of this.listeners.get(key) ?? []) {
        try {
          listener(event as NodeEvent)
        } catch {
          // a subscriber's bug must not break the node or other subscribers
        }
      }
    }
  }
}

function hostFailureCode (error: string): 'ADDRESS_IN_USE' | 'HOST_START_FAILED' {
  return /address already in use/.test(error) ? 'ADDRESS_IN_USE' : 'HOST_START_FAILED'
}
