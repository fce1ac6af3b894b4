import { DmsError } from '../errors.js'
import type { DmsErrorCode } from '../errors.js'
import type { ByteBudget } from './byte-budget.js'
import type { ErrorBody } from '../wire/envelope.js'
import type { MessengerCounters } from '../../machines/messenger.js'

export interface MessengerInit {
  /** Hard maximum encoded frame size, both directions. @default 1048576 */
  maxFrameBytes?: number
  /** Default request timeout. @default 10000 */
  requestTimeoutMs?: number
  /** A frame must arrive whole within this long of its first byte, or its stream is reset. @default 10000 */
  frameDeadlineMs?: number
  /** Partly received frame bytes per peer and in all; a node shares one between its hosts' messengers. @default new ByteBudget() (4 MiB per peer, 64 MiB in all) */
  budget?: ByteBudget
  /** Bytes of delivered messages whose handlers are still running, per peer and in all; over it, the sender's streams pause. @default new ByteBudget({ perPeer: 16 MiB, total: 256 MiB }) */
  deliveries?: ByteBudget
  /** Inbound messenger streams per connection. @default 16 */
  maxInboundStreams?: number
  /** Deliver an actor event from a remote peer to the local actor `actor`, if it accepts that type. */
  deliverToActor?: (actor: string, event: { type: string } & Record<string, unknown>, from: string) => DeliveryResult
  /** Every bad input or failure; the node keeps running. */
  onError?: (error: MessengerError) => void
  /** The host this messenger serves, told to handlers in `MessageMeta.network`. @default 'public' */
  network?: 'public' | 'private'
}

export interface MessengerError {
  code: string
  message: string
  peer?: string
}

/** What `deliverToActor` answers: delivered, or refused with a reason sent back to the peer. */
export type DeliveryResult = { ok: true } | { ok: false, reason: string }

/** Metadata handed to a message handler. `from` is the authenticated sender. */
export interface MessageMeta {
  from: string
  id: string
  type: string
  /** 'req' when the sender waits for the handler's return value, 'msg' for a one-way message. */
  kind: 'msg' | 'req'
  /** The host it came in on: `private` only through the private swarm's key. */
  network: 'public' | 'private'
}

/** Options of one send or request. */
export interface SendOptions {
  /** Abandon the send (or the wait for a reply): it rejects with ABORTED. */
  signal?: AbortSignal
}

/** Options of one request. */
export interface RequestOptions extends SendOptions {
  /** How long to wait for the reply, 1 to 2^31-1 ms. @default the messenger's requestTimeoutMs */
  timeoutMs?: number
}

export type MessageHandler = (body: unknown, meta: MessageMeta) => unknown

/** The messenger's counters; its actor (machines/messenger.ts) shows the same ones. */
export type MessengerStats = MessengerCounters

/**
 * A failed send or request; `code` is REMOTE_ERROR (the receiver refused: `remoteCode` says why, e.g.
 * UNKNOWN_TYPE, INVALID, ACTOR_REFUSED, HANDLER_FAILED), TIMEOUT, ABORTED, INVALID (a bad type, timeout or
 * body, refused before sending), OVERSIZED, NOT_ATTACHED or SEND_FAILED.
 */
export class MessageError extends DmsError {
  /** For REMOTE_ERROR: the code the receiver's handler gave (its DmsError code, `NO_REPLY`, or `HANDLER_FAILED`). */
  readonly remoteCode?: string

  constructor (code: DmsErrorCode, message: string, remoteCode?: string) {
    super(code, message)
    this.name = 'MessageError'
    if (remoteCode != null) this.remoteCode = remoteCode
  }
}

/** What a message type (and an actor's systemId) may be: 1-128 letters, digits and `_ . : / -`. */
export const MESSAGE_TYPE_PATTERN = /^[\w.:/-]{1,128}$/

/** Refuse a message type the receiver would refuse (INVALID), before anything is sent or registered. */
export function checkMessageType (type: unknown, what = 'message type'): void {
  if (typeof type !== 'string' || !MESSAGE_TYPE_PATTERN.test(type)) {
    throw new MessageError('INVALID', `bad ${what} ${JSON.stringify(type)}: 1-128 letters, digits and _ . : / -`)
  }
}

/** Message type of actor events addressed with `to.actor`. */
export const ACTOR_EVENT_TYPE = 'actor.event'

/** A refusal sent back to the requester with its code. */
export class RemoteRefusal extends Error {
  constructor (readonly code: string, message: string) {
    super(message)
  }
}

/** A handler's error as the requester sees it: its own code when it has a plain one (`NO_REPLY`, `BUSY`), else HANDLER_FAILED. */
export function toErrorBody (err: unknown): ErrorBody {
  if (err instanceof RemoteRefusal || err instanceof DmsError) return { code: err.code, message: err.message }
  const code = (err as { code?: unknown } | null)?.code
  return { code: typeof code === 'string' && /^[A-Z][A-Z0-9_]{0,39}$/.test(code) ? code : 'HANDLER_FAILED', message: err instanceof Error ? err.message : String(err) }
}

