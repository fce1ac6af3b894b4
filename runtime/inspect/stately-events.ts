import type { AnyStateMachine } from 'xstate'
import type { ActorView, LogEntry } from './live-system.js'

/** The event format of @statelyai/inspect (the version this project pins), which the Stately inspector reads. */
const STATELY_VERSION = '0.7.2'

export type StatelyEvent = Record<string, unknown> & { type: string, sessionId: string }

/** A machine's config as the Stately inspector draws it: plain JSON, functions dropped. */
export function statelyDefinition (machine: AnyStateMachine): string {
  return JSON.stringify(machine.config, (_key, value: unknown) => typeof value === 'function' ? undefined : value)
}

const base = (sessionId: string): { _version: string, createdAt: string, id: null, sessionId: string } =>
  ({ _version: STATELY_VERSION, createdAt: Date.now().toString(), id: null, sessionId })

/** An actor as the Stately inspector's `@xstate.actor` event (with its current snapshot). */
export function statelyActor (actor: ActorView, definitions: Map<string, string>): StatelyEvent {
  const name = actor.systemId ?? actor.machineId ?? actor.id
  return {
    ...base(actor.id),
    type: '@xstate.actor',
    name,
    definition: (actor.machineId != null ? definitions.get(actor.machineId) : undefined) ?? JSON.stringify({ id: name }),
    rootId: `${actor.node}/x:0`,
    ...(actor.parentId != null ? { parentId: actor.parentId } : {}),
    snapshot: { value: actor.value, status: actor.status, context: actor.context }
  }
}

/** A log entry as the Stately inspector's `@xstate.event` or `@xstate.snapshot`; undefined for other kinds. */
export function statelyLogEvent (entry: LogEntry, actor: ActorView | undefined): StatelyEvent | undefined {
  if (entry.kind === 'event') {
    return { ...base(entry.actor), type: '@xstate.event', event: entry.event ?? { type: entry.eventType }, ...(entry.source != null ? { sourceId: entry.source } : {}) }
  }
  if (entry.kind === 'snapshot' && actor != null) {
    return { ...base(entry.actor), type: '@xstate.snapshot', event: { type: entry.eventType }, snapshot: { value: actor.value, status: actor.status, context: actor.context } }
  }
  return undefined
}
