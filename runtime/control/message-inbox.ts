import type { MessageHandler, MessageMeta } from '../../actors/messenger/messenger.js'
import { DmsError } from '../errors.js'

/** A typed message as a `dms-net receive` client sees it. */
export interface ReceivedMessage {
  type: string
  kind: MessageMeta['kind']
  from: string
  id: string
  body: unknown
  /** For a request: whether this node answered it with a subscriber's `--reply`. */
  replied?: boolean
}

interface Subscriber {
  push: (message: ReceivedMessage) => void
  /** The answer to requests of these types; requests are refused with NO_REPLY when no subscriber has one. */
  reply?: { value: unknown }
}

/**
 * Hands the typed messages of chosen types to control-socket subscribers
 * (`dms-net receive TYPE...`). A type is handled on the node only while
 * someone subscribes to it; a type the embedder or a feature already handles
 * cannot be taken over.
 */
export class MessageInbox {
  private readonly subscribers = new Map<string, Set<Subscriber>>()
  private readonly removers = new Map<string, () => void>()

  constructor (private readonly handle: (type: string, handler: MessageHandler) => () => void) {}

  subscribe (types: string[], push: Subscriber['push'], reply?: Subscriber['reply']): () => void {
    const subscriber: Subscriber = { push, ...(reply != null ? { reply } : {}) }
    const added: string[] = []
    try {
      for (const type of new Set(types)) {
        this.add(type, subscriber)
        added.push(type)
      }
    } catch (err) {
      for (const type of added) this.remove(type, subscriber)
      throw err
    }
    return () => { for (const type of added) this.remove(type, subscriber) }
  }

  private add (type: string, subscriber: Subscriber): void {
    let set = this.subscribers.get(type)
    if (set == null) {
      let remove: () => void
      try {
        remove = this.handle(type, (body, meta) => this.deliver(type, body, meta))
      } catch {
        throw new DmsError('TYPE_TAKEN', `messages of type ${type} are already handled by this node (a feature or the embedding program)`)
      }
      set = new Set()
      this.subscribers.set(type, set)
      this.removers.set(type, remove)
    }
    set.add(subscriber)
  }

  private remove (type: string, subscriber: Subscriber): void {
    const set = this.subscribers.get(type)
    if (set == null) return
    set.delete(subscriber)
    if (set.size > 0) return
    this.subscribers.delete(type)
    this.removers.get(type)?.()
    this.removers.delete(type)
  }

  private deliver (type: string, body: unknown, meta: MessageMeta): unknown {
    const subscribers = [...this.subscribers.get(type) ?? []]
    const answer = meta.kind === 'req' ? subscribers.find((s) => s.reply != null)?.reply : undefined
    const message: ReceivedMessage = { type, kind: meta.kind, from: meta.from, id: meta.id, body, ...(meta.kind === 'req' ? { replied: answer != null } : {}) }
    for (const subscriber of subscribers) subscriber.push(message)
    if (meta.kind === 'req' && answer == null) {
      throw new DmsError('NO_REPLY', `the operator receives ${type} but gave no reply (dms-net receive --reply)`)
    }
    return answer?.value
  }
}
