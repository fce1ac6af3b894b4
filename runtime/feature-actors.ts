import type { ActorRefFrom, AnyActorLogic, AnyActorRef, InputFrom } from 'xstate'
import { DmsError } from './errors.js'
import type { FeatureCommand } from '../machines/node.js'
import type { DeliveryResult } from '../actors/messenger/messenger.js'

/** A remote event as a local actor receives it: `from` is the authenticated sender. */
export type RemoteEvent = { type: string, from: string } & Record<string, unknown>

export type { DeliveryResult }

export interface FeatureActorOptions<TLogic extends AnyActorLogic> {
  input?: InputFrom<TLogic>
  /** Event types this actor accepts from remote peers; everything else is refused. @default [] */
  acceptsRemote?: string[]
}

/** What FeatureActors needs of the node's root actor: its system, and the spawn/stop commands. */
export interface FeatureHost {
  send: (event: FeatureCommand) => void
  system: { get: (systemId: string) => AnyActorRef | undefined }
}

/**
 * The feature actors of a node (swarm, VPN, discovery, messengers): children
 * of the node's root actor for one run of the node, from start() to stop() (a
 * feature runs its actor again after a restart), so they share its actor system (reachable by
 * systemId from every other actor, shown under the node in the inspector), and
 * addressable by remote peers for the event types each one lists — an explicit
 * allow-list.
 */
export class FeatureActors {
  private readonly acceptsRemote = new Map<string, Set<string>>()

  constructor (private readonly root: () => FeatureHost | undefined) {}

  run<TLogic extends AnyActorLogic> (systemId: string, logic: TLogic, options: FeatureActorOptions<TLogic> = {}): ActorRefFrom<TLogic> {
    const root = this.root()
    if (root == null) throw new DmsError('HOST_NOT_RUNNING', `${systemId} needs a started node: call node.start() first`)
    if (root.system.get(systemId) != null) throw new DmsError('FEATURE_RUNNING', `an actor with systemId ${systemId} already runs on this node`)
    root.send({ type: 'feature.spawn', systemId, logic, ...(options.input !== undefined ? { input: options.input } : {}) })
    const actor = root.system.get(systemId)
    if (actor == null) throw new DmsError('FEATURE_FAILED', `${systemId} did not start`)
    this.acceptsRemote.set(systemId, new Set(options.acceptsRemote ?? []))
    return actor as ActorRefFrom<TLogic>
  }

  get (systemId: string): AnyActorRef | undefined {
    return this.root()?.system.get(systemId)
  }

  stop (systemId: string): void {
    this.acceptsRemote.delete(systemId)
    this.root()?.send({ type: 'feature.stop', systemId })
  }

  /** The node stopped, and its feature actors with it: none is addressable until run again. */
  forgetAll (): void {
    this.acceptsRemote.clear()
  }

  /** Deliver an event from a remote peer, if the addressed actor accepts that type. */
  deliver (systemId: string, event: { type: string } & Record<string, unknown>, from: string): DeliveryResult {
    const accepted = this.acceptsRemote.get(systemId)
    const actor = accepted == null ? undefined : this.get(systemId)
    if (actor == null || accepted == null) return { ok: false, reason: `no actor ${systemId} on this node` }
    if (typeof event?.type !== 'string' || !accepted.has(event.type)) {
      return { ok: false, reason: `actor ${systemId} does not accept ${String(event?.type)} from remote peers` }
    }
    // the sender is whoever the transport authenticated, whatever the body claims
    actor.send({ ...event, from } satisfies RemoteEvent)
    return { ok: true }
  }
}
