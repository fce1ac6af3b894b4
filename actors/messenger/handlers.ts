import { DmsError } from '../errors.js'
import type { Envelope } from '../wire/envelope.js'
import { ACTOR_EVENT_TYPE, MessageError, RemoteRefusal, checkMessageType, toErrorBody } from './messenger-types.js'
import type { DeliveryResult, MessageHandler } from './messenger-types.js'

export interface HandlersInit {
  deliverToActor?: (actor: string, event: { type: string } & Record<string, unknown>, from: string) => DeliveryResult
  report: (code: string, message: string, peer?: string) => void
  /** The host these handlers serve, told to each handler. */
  network: 'public' | 'private'
}

/** A handler's outcome: its value, or the error to send back. Sync handlers settle without a promise. */
export type Outcome = { ok: true, value: unknown } | { ok: false, error: unknown }

const isThenable = (value: unknown): value is PromiseLike<unknown> =>
  value != null && (typeof value === 'object' || typeof value === 'function') && typeof (value as { then?: unknown }).then === 'function'

/**
 * The message types this messenger answers, and actor events addressed by
 * systemId. Runs a handler and reports its outcome; a handler that returns a
 * plain value (not a promise) is answered in the same turn, without promises.
 */
export class Handlers {
  private readonly handlers = new Map<string, MessageHandler>()

  constructor (private readonly init: HandlersInit) {}

  /** Handle messages and requests of one type; the return value (or thrown error) answers a request. */
  handle (type: string, handler: MessageHandler): () => void {
    checkMessageType(type)
    if (typeof handler !== 'function') throw new MessageError('INVALID', `the handler for ${type} is not a function`)
    if (this.handlers.has(type)) throw new DmsError('HANDLER_TAKEN', `a handler for ${type} is already registered`)
    this.handlers.set(type, handler)
    return () => { if (this.handlers.get(type) === handler) this.handlers.delete(type) }
  }

  /** Run the answer to a request, then call `done` with it (at once when the handler is synchronous). */
  answer (envelope: Envelope, done: (outcome: Outcome) => void): void {
    let result: unknown
    try {
      result = this.run(envelope)
    } catch (error) {
      done({ ok: false, error })
      return
    }
    if (!isThenable(result)) { done({ ok: true, value: result }); return }
    result.then((value) => { done({ ok: true, value }) }, (error: unknown) => { done({ ok: false, error }) })
  }

  /** Run a one-way message's handler; `done` follows when it finishes. Returns false when no handler takes the type. */
  deliver (envelope: Envelope, done: () => void): boolean {
    const handler = this.handlers.get(envelope.type)
    if (handler == null) {
      this.init.report('UNKNOWN_TYPE', `no handler for message type ${envelope.type}`, envelope.from)
      return false
    }
    const failed = (err: unknown): void => { this.init.report('HANDLER_FAILED', `handler for ${envelope.type} failed: ${(err as Error)?.message ?? err}`, envelope.from) }
    let result: unknown
    try {
      result = handler(envelope.body, { from: envelope.from, id: envelope.id, type: envelope.type, kind: 'msg', network: this.init.network })
    } catch (err) {
      failed(err)
      done()
      return true
    }
    if (!isThenable(result)) { done(); return true }
    result.then(done, (err: unknown) => { failed(err); done() })
    return true
  }

  /**
   * A request to this node itself: the answer, or the refusal as the requester sees it.
   * `wire` carries the answer through the codec, as a remote reply would be (it may throw).
   */
  async answerLocally (envelope: Envelope, wire: (value: unknown) => unknown): Promise<unknown> {
    return await new Promise((resolve, reject) => {
      this.answer(envelope, (outcome) => {
        let error = outcome.ok ? undefined : outcome.error
        if (outcome.ok) {
          try {
            resolve(wire(outcome.value))
            return
          } catch (err) {
            error = err
          }
        }
        const body = toErrorBody(error)
        reject(new MessageError('REMOTE_ERROR', `${body.code}: ${body.message}`, body.code))
      })
    })
  }

  /** The reply value to a request, a promise of it, or a thrown error to send back. */
  private run (envelope: Envelope): unknown {
    if (envelope.to != null) {
      if (envelope.type !== ACTOR_EVENT_TYPE) throw new RemoteRefusal('INVALID', `to.actor needs type ${ACTOR_EVENT_TYPE}`)
      const event = envelope.body as { type?: unknown } | null
      if (event == null || typeof event !== 'object' || typeof event.type !== 'string') throw new RemoteRefusal('INVALID', 'an actor event needs a string type')
      const delivered = this.init.deliverToActor?.(envelope.to.actor, event as { type: string }, envelope.from) ??
        { ok: false as const, reason: 'this node accepts no actor events' }
      if (!delivered.ok) {
        this.init.report('ACTOR_REFUSED', delivered.reason, envelope.from)
        throw new RemoteRefusal('ACTOR_REFUSED', delivered.reason)
      }
      return null
    }
    const handler = this.handlers.get(envelope.type)
    if (handler == null) {
      this.init.report('UNKNOWN_TYPE', `no handler for request type ${envelope.type}`, envelope.from)
      throw new RemoteRefusal('UNKNOWN_TYPE', `no handler for request type ${envelope.type}`)
    }
    return handler(envelope.body, { from: envelope.from, id: envelope.id, type: envelope.type, kind: 'req', network: this.init.network })
  }
}
