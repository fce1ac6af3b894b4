import type { Actor, AnyActorRef } from 'xstate'
import type { nodeMachine } from '../machines/node.js'
import type { HostCommand, HostReply } from '../machines/host.js'
import { asLibp2p } from '../actors/libp2p-node.js'
import type { DmsLibp2p, MemberRelay, ProtectorFactory } from '../actors/libp2p-node.js'
import { DmsError } from './errors.js'
import type { DmsErrorCode } from './errors.js'
import type { HostAttachment } from './host-attachment.js'
import type { NetworkKind } from './events.js'

/** An operation the runtime asks a host for, and awaits the reply to. */
type HostRequest = Extract<HostCommand, { type: 'host.dial' | 'host.listen' }>

/** The host machine takes a restart only while its host runs (dials it takes always, to refuse them): what `running()` asks. */
const RUNNING_PROBE = { type: 'host.restart' } as const

type RootActor = Actor<typeof nodeMachine>

export interface HostControlInit {
  /** The node's root actor, while the node is built. */
  root: () => RootActor | undefined
  /** The public host's start, run in order with the node's own start and stop. */
  startPublic: () => Promise<void>
  /** The private host's listen addresses when none are given. */
  defaultPrivateListen: () => string[]
  startTimeoutMs: number
}

/**
 * The hosts of one node, as features drive them: the private host (start,
 * restart with a new key, stop), the public host (suspend, resume), their
 * libp2p nodes, and what attaches to them. Every command goes to the host
 * actors; this only waits for their answer.
 */
export class HostControl {
  /** What attaches to every running host (messengers, key exchange, VPN data plane, discovery). */
  readonly attachments: HostAttachment[] = []
  private protector?: () => ProtectorFactory | undefined
  private relay?: MemberRelay

  constructor (private readonly init: HostControlInit) {}

  /** Add something to attach to every running host; before the node is built. */
  addAttachment (attachment: HostAttachment): void {
    this.beforeStart()
    this.attachments.push(attachment)
  }

  private beforeStart (): void {
    if (this.init.root() != null) throw new DmsError('FEATURE_TOO_LATE', 'a feature must be created before the node starts: pass it to createNode({ features }), or call createSwarm/createVpn before start()')
  }

  /**
   * Where the private host gets its connection protector: called at every
   * (re)start of the private host, so a rotated key takes effect on restart.
   */
  setPrivateProtector (source: (() => ProtectorFactory | undefined) | undefined): void {
    this.protector = source
  }

  privateProtector (): ProtectorFactory | undefined {
    return this.protector?.()
  }

  /**
   * Who may use the public host's member relay (a VPN leader relays its members, without
   * limits); set before the node starts: the public host is built with it or without it.
   */
  setMemberRelay (relay: MemberRelay): void {
    this.beforeStart()
    this.relay = relay
  }

  memberRelay (): MemberRelay | undefined {
    return this.relay
  }

  /** The running libp2p node of a host. */
  libp2p (network: NetworkKind = 'public'): DmsLibp2p | undefined {
    const handle = this.init.root()?.getSnapshot().context.libp2p[network]
    return handle == null ? undefined : asLibp2p(handle)
  }

  /** Whether a host is up: its machine is asked (`can`), not read by state name. */
  running (network: NetworkKind): boolean {
    return this.actor(network)?.getSnapshot().can(RUNNING_PROBE) === true
  }

  actor (network: NetworkKind = 'public'): AnyActorRef | undefined {
    return this.init.root()?.system.get(network === 'public' ? 'host.public' : 'host.private')
  }

  /**
   * Start the private host (a protector must be set); resolves with its addresses once its
   * services are ready. `relay`: the swarm owner `serve`s as its members' relay, a member
   * `reserve`s a slot on it; restarts keep it.
   */
  async startPrivateHost (options: { listen?: string[], relay?: 'serve' | 'reserve' } = {}): Promise<string[]> {
    // never brings a stopped node back: a feature finishing late work after stop() must not leave a host behind
    const root = this.init.root()
    if (root == null) throw new DmsError('HOST_NOT_RUNNING', 'the node is not started')
    if (this.running('private')) return this.privateAddresses()
    const listen = options.listen ?? this.init.defaultPrivateListen()
    // the relay role travels with the start, into the host machine's input: its restarts keep it
    await this.awaitPrivate(() => { root.send({ type: 'private.start', listen, ...(options.relay != null ? { relay: options.relay } : {}) }) }, 'ready')
    return this.privateAddresses()
  }

  /** Rebuild the private host (same ports) with the protector's current key. */
  async restartPrivateHost (): Promise<string[]> {
    const root = this.init.root()
    if (root == null || this.actor('private') == null) throw new DmsError('HOST_NOT_RUNNING', 'the private host is not running')
    await this.awaitPrivate(() => { root.send({ type: 'private.restart' }) }, 'ready')
    return this.privateAddresses()
  }

  /** Stop the private host; the public host is untouched. */
  async stopPrivateHost (): Promise<void> {
    const root = this.init.root()
    if (root == null || this.actor('private') == null) return
    await this.awaitPrivate(() => { root.send({ type: 'private.stop' }) }, 'stopped')
  }

  /** Stop only the public host (a swarm member leaving the public network); actors and the private host stay. */
  async suspendPublicHost (): Promise<void> {
    if (this.running('public')) await this.stopPublicHost()
  }

  /** Stop the public host and wait for it, unless its machine has nothing to stop. */
  async stopPublicHost (): Promise<void> {
    const root = this.init.root()
    const host = this.actor()
    if (root == null || host == null || !host.getSnapshot().can({ type: 'host.stop' })) return
    await this.awaitHost(root, 'public', 'stopped', () => { host.send({ type: 'host.stop' }) })
  }

  /** Start the public host again after `suspendPublicHost()`; nothing when it runs. */
  async resumePublicHost (): Promise<void> {
    if (this.init.root() == null) throw new DmsError('HOST_NOT_RUNNING', 'the node is not started')
    if (this.running('public')) return
    await this.init.startPublic()
  }

  /** Start the public host; resolves once its services are ready. */
  async startPublicHost (): Promise<void> {
    const root = this.init.root()!
    if (this.running('public')) return
    await this.awaitHost(root, 'public', 'ready', () => { this.actor()!.send({ type: 'host.start' }) })
  }

  /** Send a dial or listen to a host and wait for its reply. */
  async request (event: HostRequest, timeoutMs: number, network: NetworkKind = 'public', signal?: AbortSignal): Promise<unknown> {
    const host = this.actor(network)
    if (host == null) throw new DmsError('HOST_NOT_RUNNING', network === 'public' ? 'the node is not started' : 'the private host is not running')
    if (signal?.aborted === true) throw new DmsError('ABORTED', `${event.type} aborted by the caller`)
    return await new Promise((resolve, reject) => {
      const subscription = host.on('host.reply', (reply: HostReply) => {
        if (reply.reqId !== event.reqId) return
        clear()
        if (reply.ok) resolve(reply.result)
        else reject(new DmsError(reply.code, reply.error))
      })
      // a caller that gives up stops the operation too
      const giveUp = (error: DmsError): void => {
        clear()
        host.send({ type: 'host.operation.cancel', reqId: event.reqId })
        reject(error)
      }
      const timer = setTimeout(() => { giveUp(new DmsError('TIMEOUT', `${event.type} timed out after ${timeoutMs} ms`)) }, timeoutMs)
      const abort = (): void => { giveUp(new DmsError('ABORTED', `${event.type} aborted by the caller`)) }
      signal?.addEventListener('abort', abort, { once: true })
      function clear (): void { clearTimeout(timer); subscription.unsubscribe(); signal?.removeEventListener('abort', abort) }
      host.send(event)
    })
  }

  private privateAddresses (): string[] {
    const snapshot = this.actor('private')?.getSnapshot() as { context: { addresses: string[] } } | undefined
    return snapshot?.context.addresses ?? []
  }

  private async awaitPrivate (trigger: () => void, outcome: 'ready' | 'stopped'): Promise<void> {
    await this.awaitHost(this.init.root()!, 'private', outcome, trigger)
  }

  /** Run `trigger` and wait until a host is ready (services attached) or stopped; its failure rejects. */
  private async awaitHost (root: RootActor, network: NetworkKind, outcome: 'ready' | 'stopped', trigger: () => void): Promise<void> {
    const label = network === 'public' ? 'the node' : 'the private host'
    const prefix = network === 'public' ? '' : 'private host: '
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => { done(); reject(new DmsError('TIMEOUT', `${label} did not ${outcome === 'ready' ? 'start' : 'stop'} in time`)) }, this.init.startTimeoutMs)
      const fail = (code: DmsErrorCode, message: string): void => { done(); reject(new DmsError(code, `${prefix}${message}`)) }
      const subscriptions = [
        root.on(outcome === 'ready' ? 'node.ready' : 'host.stopped', (event) => { if (event.network === network) { done(); resolve() } }),
        root.on('host.failed', (event) => { if (event.network === network) fail(event.code ?? 'HOST_START_FAILED', event.error) }),
        root.on('node.services-failed', (event) => { if (event.network === network) fail('HOST_START_FAILED', event.error) }),
        ...(outcome === 'ready' && network === 'public'
          ? [root.on('host.stopped', (event) => { if (event.network === network) fail('HOST_NOT_RUNNING', 'the node was stopped while starting') })]
          : [])
      ]
      function done (): void { clearTimeout(timer); for (const s of subscriptions) s.unsubscribe() }
      trigger()
    })
  }
}
