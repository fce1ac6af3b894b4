import { createActor } from 'xstate'
import type { Actor, AnyActorLogic, InputFrom, InspectionEvent } from 'xstate'
import { describeError } from './errors.js'

/** A remote event as a local actor receives it: `from` is the authenticated sender. */
export type RemoteEvent = { type: string, from: string } & Record<string, unknown>

import type { DeliveryResult } from '../actors/messenger/messenger.js'
export type { DeliveryResult }

export interface FeatureActorOptions<TLogic extends AnyActorLogic> {
  input?: InputFrom<TLogic>
  /** Event types this actor accepts from remote peers; everything else is refused. @default [] */
  acceptsRemote?: string[]
}

interface Entry {
  actor: Actor<AnyActorLogic>
  acceptsRemote: Set<string>
}

/**
 * The feature actors a node runs beside its root (swarm, VPN): created with the
 * node's inspector, observed for errors, and addressable by systemId from remote
 * peers for the event types each one lists — an explicit allow-list.
 */
export class FeatureActors {
  private readonly entries = new Map<string, Entry>()

  constructor (
    private readonly inspect: ((event: InspectionEvent) => void) | undefined,
    private readonly onError: (systemId: string, error: string) => void
  ) {}

  run<TLogic extends AnyActorLogic> (systemId: string, logic: TLogic, options: FeatureActorOptions<TLogic> = {}): Actor<TLogic> {
    if (this.entries.has(systemId)) throw new Error(`an actor with systemId ${systemId} already runs on this node`)
    const actor = createActor(logic, {
      systemId,
      ...(options.input !== undefined ? { input: options.input } : {}),
      ...(this.inspect != null ? { inspect: this.inspect } : {})
    })
    actor.subscribe({ error: (err) => { this.onError(systemId, describeError(err)) } })
    actor.start()
    this.entries.set(systemId, { actor: actor as Actor<AnyActorLogic>, acceptsRemote: new Set(options.acceptsRemote ?? []) })
    return actor
  }

  get (systemId: string): Actor<AnyActorLogic> | undefined {
    return this.entries.get(systemId)?.actor
  }

  stop (systemId: string): void {
    this.entries.get(systemId)?.actor.stop()
    this.entries.delete(systemId)
  }

  stopAll (): void {
    for (const systemId of [...this.entries.keys()]) this.stop(systemId)
  }

  /** Deliver an event from a remote peer, if the addressed actor accepts that type. */
  deliver (systemId: string, event: { type: string } & Record<string, unknown>, from: string): DeliveryResult {
    const entry = this.entries.get(systemId)
    if (entry == null) return { ok: false, reason: `no actor ${systemId} on this node` }
    if (typeof event?.type !== 'string' || !entry.acceptsRemote.has(event.type)) {
      return { ok: false, reason: `actor ${systemId} does not accept ${String(event?.type)} from remote peers` }
    }
    // the sender is whoever the transport authenticated, whatever the body claims
    entry.actor.send({ ...event, from } satisfies RemoteEvent)
    return { ok: true }
  }
}
