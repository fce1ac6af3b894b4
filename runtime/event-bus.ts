import type { Logger } from '../actors/log.js'
import type { NodeEmitted } from '../machines/node.js'
import type { NodeEvent, NodeEventMap, NodeEventType } from './events.js'

/** The node's public events: what `node.on()` subscribers, the CLI and the control socket see. */
export class EventBus {
  private readonly listeners = new Map<string, Set<(event: NodeEvent) => void>>()

  constructor (private readonly log: Logger) {}

  on<K extends NodeEventType> (type: K, listener: (event: { type: K } & NodeEventMap[K]) => void): () => void
  on (type: '*', listener: (event: NodeEvent) => void): () => void
  on (type: string, listener: (event: never) => void): () => void {
    const set = this.listeners.get(type) ?? new Set()
    set.add(listener as (event: NodeEvent) => void)
    this.listeners.set(type, set)
    return () => { set.delete(listener as (event: NodeEvent) => void) }
  }

  /** Hand an event to its subscribers; the readiness events stay inside the runtime. */
  emit (event: NodeEmitted): void {
    this.log('%s %o', event.type, event)
    if (event.type === 'node.ready' || event.type === 'node.services-failed') return
    for (const key of [event.type, '*']) {
      for (const listener of this.listeners.get(key) ?? []) {
        try {
          listener(event as NodeEvent)
        } catch (err) {
          // a subscriber's bug must not break the node or other subscribers, but it is recorded
          this.log.error('a subscriber of %s threw: %s', event.type, err instanceof Error ? err.message : String(err))
        }
      }
    }
  }
}
