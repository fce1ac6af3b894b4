import type { SanitizedInspectionEvent } from './sanitized-inspector.js'

/** One live actor as the inspector page lists it. */
export interface ActorView {
  /** Unique across the nodes feeding one inspector: `<node>/<sessionId>`. */
  id: string
  node: string
  systemId?: string
  /** The id its parent gave it, for actors without a systemId. */
  name?: string
  machineId?: string
  parentId?: string
  value?: unknown
  status?: unknown
  context?: unknown
  updatedAt: number
}

/** One line of the event log. */
export interface LogEntry {
  seq: number
  time: number
  /** The actor the entry is about (receiver of an event, owner of a snapshot). */
  actor: string
  kind: 'actor' | 'event' | 'snapshot' | 'stopped'
  /** The event's type, for `event` and `snapshot` entries. */
  eventType?: string
  source?: string
  event?: unknown
}

/** What a client receives after its initial view: changes since, in order. */
export type LiveChange = { kind: 'actor', actor: ActorView } | { kind: 'gone', id: string } | { kind: 'log', entry: LogEntry }

/**
 * The inspector's model of the running system: the live actors and a bounded
 * event log, fed with sanitised inspection events. Actors that stop leave the
 * list (their log lines stay). Memory is bounded by `maxLog`.
 */
export class LiveSystem {
  readonly actors = new Map<string, ActorView>()
  readonly log: LogEntry[] = []
  private seq = 0

  constructor (private readonly maxLog = 2000) {}

  /** Apply one event from node `node`; returns the changes to broadcast. */
  apply (node: string, event: SanitizedInspectionEvent): LiveChange[] {
    const id = `${node}/${event.actorId}`
    const changes: LiveChange[] = []
    const now = Date.now()
    let actor = this.actors.get(id)
    if (event.type === '@xstate.actor') {
      actor = {
        id, node, updatedAt: now,
        ...(event.systemId != null ? { systemId: event.systemId } : {}),
        ...(event.name != null ? { name: event.name } : {}),
        ...(event.machineId != null ? { machineId: event.machineId } : {}),
        ...(event.parentId != null ? { parentId: `${node}/${event.parentId}` } : {})
      }
      this.actors.set(id, actor)
      changes.push({ kind: 'actor', actor }, { kind: 'log', entry: this.append({ time: now, actor: id, kind: 'actor' }) })
      return changes
    }
    if (event.type === '@xstate.event') {
      const type = (event.event as { type?: unknown } | undefined)?.type
      changes.push({ kind: 'log', entry: this.append({ time: now, actor: id, kind: 'event', ...(typeof type === 'string' ? { eventType: type } : {}), ...(event.sourceId != null ? { source: `${node}/${event.sourceId}` } : {}), event: event.event }) })
      return changes
    }
    if (event.type === '@xstate.snapshot' && actor != null) {
      const status = event.snapshot?.status
      if (status === 'stopped' || status === 'done' || status === 'error') {
        this.actors.delete(id)
        changes.push({ kind: 'gone', id }, { kind: 'log', entry: this.append({ time: now, actor: id, kind: 'stopped' }) })
        return changes
      }
      actor.value = event.snapshot?.value
      actor.status = status
      actor.context = event.snapshot?.context
      actor.updatedAt = now
      const type = (event.event as { type?: unknown } | undefined)?.type
      changes.push({ kind: 'actor', actor }, { kind: 'log', entry: this.append({ time: now, actor: id, kind: 'snapshot', ...(typeof type === 'string' ? { eventType: type } : {}) }) })
    }
    return changes
  }

  /** Every actor of node `node` is gone (the node stopped). */
  forget (node: string): LiveChange[] {
    const changes: LiveChange[] = []
    for (const id of [...this.actors.keys()]) {
      if (this.actors.get(id)!.node !== node) continue
      this.actors.delete(id)
      changes.push({ kind: 'gone', id })
    }
    return changes
  }

  private append (entry: Omit<LogEntry, 'seq'>): LogEntry {
    const full = { seq: ++this.seq, ...entry }
    this.log.push(full)
    if (this.log.length > this.maxLog) this.log.splice(0, this.log.length - this.maxLog)
    return full
  }
}
