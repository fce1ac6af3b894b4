import type { InspectionEvent, Observer } from 'xstate'
import { sanitize, stateValue } from './sanitize.js'

/** A plain-data view of one inspection event: what an inspector receives from dms-network. */
export interface SanitizedInspectionEvent {
  type: InspectionEvent['type']
  actorId: string
  systemId?: string
  /** For `@xstate.actor`: the id its parent gave it (`bridge`, `services.public`, `op:…`). */
  name?: string
  /** For `@xstate.actor`: the machine's id (`peer`, `vpn`, …) when the actor runs a machine. */
  machineId?: string
  /** For `@xstate.actor`: the parent actor's id. */
  parentId?: string
  /** For `@xstate.snapshot`: the state value, status and sanitised context. */
  snapshot?: { value?: unknown, status?: unknown, context?: unknown }
  /** For `@xstate.event` and `@xstate.snapshot`: the sanitised event. */
  event?: unknown
  sourceId?: string
}

export type InspectObserver = ((event: SanitizedInspectionEvent) => void) | Observer<SanitizedInspectionEvent>

/** Wrap an embedder's inspector so it only ever sees sanitised plain data. */
export function sanitizedInspector (target: InspectObserver): (event: InspectionEvent) => void {
  const next = typeof target === 'function' ? target : (event: SanitizedInspectionEvent) => { target.next?.(event) }
  return (event) => {
    const actor = event.actorRef as { id?: string, sessionId: string, options?: { systemId?: string }, logic?: { id?: unknown, root?: unknown }, _parent?: { sessionId: string } }
    const out: SanitizedInspectionEvent = { type: event.type, actorId: actor.sessionId }
    if (actor.options?.systemId != null) out.systemId = actor.options.systemId
    if (event.type === '@xstate.actor') {
      if (typeof actor.id === 'string' && actor.id !== actor.sessionId) out.name = actor.id
      if (typeof actor.logic?.id === 'string' && actor.logic.root != null) out.machineId = actor.logic.id
      if (actor._parent != null) out.parentId = actor._parent.sessionId
    }
    if (event.type === '@xstate.snapshot' || event.type === '@xstate.event') out.event = sanitize(event.event)
    if (event.type === '@xstate.snapshot') {
      const snapshot = event.snapshot as { value?: unknown, status?: unknown, context?: unknown }
      out.snapshot = { value: stateValue(snapshot.value), status: snapshot.status, context: sanitize(snapshot.context) }
    }
    if (event.type === '@xstate.event' && event.sourceRef != null) out.sourceId = event.sourceRef.sessionId
    try { next(out) } catch { /* an inspector's failure must not break the node */ }
  }
}
