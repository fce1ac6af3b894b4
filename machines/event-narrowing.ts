import { assertEvent } from 'xstate'
import type { EventObject, ExtractEvent } from 'xstate'

/**
 * The event an action or guard got, checked to be of `type` (XState's
 * `assertEvent`: a wrong one throws, naming both) and typed as that member of
 * the machine's events. Machines use this instead of casting events.
 */
export function eventOf<E extends EventObject, T extends E['type']> (event: E, type: T | T[]): ExtractEvent<E, T> {
  assertEvent(event, type)
  return event
}

/** The error an actor's failure event carries (`xstate.error.actor.*`), or undefined for any other event. */
export function errorOf (event: EventObject): unknown {
  return 'error' in event ? event.error : undefined
}
