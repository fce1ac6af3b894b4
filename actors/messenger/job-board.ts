import type { DmsLibp2p } from '../libp2p-node.js'
import { TopicValidatorResult } from '@libp2p/gossipsub'
import type { Message } from '@libp2p/gossipsub'
import { encodeValue, decodeValue } from '../wire/codec.js'
import { BID_REQUEST_TOPIC, validateBidRequest } from '../wire/bid-request.js'
import type { BidRequest, BidRequestInit } from '../wire/bid-request.js'
import { DmsError } from '../errors.js'

/** Largest bid request accepted from gossipsub. */
const MAX_BID_BYTES = 64 * 1024

/**
 * Job bid requests on gossipsub: publish typed, validated requests; receive
 * only those whose `requester` is the message's signed author.
 */
export class JobBoard {
  private libp2p?: DmsLibp2p
  private readonly listeners = new Set<(bid: BidRequest, from: string) => void>()
  /** Bid requests the topic validator already decoded, by message. */
  private readonly checked = new WeakMap<Message, BidRequest>()
  private readonly onMessage = (event: CustomEvent<Message>): void => { this.receive(event.detail) }

  constructor (private readonly onError: (error: { code: string, message: string, peer?: string }) => void) {}

  attach (libp2p: DmsLibp2p): void {
    this.libp2p = libp2p
    // gossipsub asks before it forwards: an invalid bid request travels no further than us, and its sender's score drops
    libp2p.services.pubsub.topicValidators.set(BID_REQUEST_TOPIC, (_peer, message) => this.check(message) != null ? TopicValidatorResult.Accept : TopicValidatorResult.Reject)
    libp2p.services.pubsub.subscribe(BID_REQUEST_TOPIC)
    libp2p.services.pubsub.addEventListener('message', this.onMessage)
  }

  detach (): void {
    const libp2p = this.libp2p
    if (libp2p == null) return
    this.libp2p = undefined
    libp2p.services.pubsub.removeEventListener('message', this.onMessage)
    libp2p.services.pubsub.topicValidators.delete(BID_REQUEST_TOPIC)
    try { libp2p.services.pubsub.unsubscribe(BID_REQUEST_TOPIC) } catch { /* the host is stopping */ }
  }

  async publish (init: BidRequestInit): Promise<{ recipients: number }> {
    const libp2p = this.libp2p
    if (libp2p == null) throw new DmsError('HOST_NOT_RUNNING', 'the node is not running')
    const bid = validateBidRequest({ ...init, requester: libp2p.peerId.toString() })
    const result = await libp2p.services.pubsub.publish(BID_REQUEST_TOPIC, encodeValue(bid))
    return { recipients: result.recipients.length }
  }

  onJob (listener: (bid: BidRequest, from: string) => void): () => void {
    this.listeners.add(listener)
    return () => { this.listeners.delete(listener) }
  }

  private receive (message: Message): void {
    if (message.topic !== BID_REQUEST_TOPIC) return
    const bid = this.checked.get(message) ?? this.check(message)
    if (bid == null) return
    for (const listener of this.listeners) {
      try { listener(bid, bid.requester) } catch { /* a subscriber's bug stays with the subscriber */ }
    }
  }

  /** The bid request a message carries, or undefined (reported) when it is not a valid, signed one from its requester. */
  private check (message: Message): BidRequest | undefined {
    if (message.type !== 'signed') {
      this.onError({ code: 'BAD_JOB', message: 'unsigned bid request dropped' })
      return undefined
    }
    const from = message.from.toString()
    try {
      if (message.data.byteLength > MAX_BID_BYTES) throw new DmsError('BAD_JOB', `bid request of ${message.data.byteLength} bytes is too large`)
      const bid = validateBidRequest(decodeValue(message.data))
      if (bid.requester !== from) throw new DmsError('BAD_JOB', `requester ${bid.requester} is not the signed author ${from}`)
      this.checked.set(message, bid)
      return bid
    } catch (err) {
      this.onError({ code: 'BAD_JOB', message: `bid request dropped: ${(err as Error).message}`, peer: from })
      return undefined
    }
  }
}
