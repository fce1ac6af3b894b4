import type { Stream } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import type { DmsLibp2p } from '../libp2p-node.js'
import { MESSENGER_PROTOCOL } from '../wire/envelope.js'
import { Channel } from './channel.js'
import type { ChannelInit } from './channel.js'
import { MessageError } from './messenger-types.js'

/** What every channel of the pool shares: limits, budgets and the messenger's callbacks. */
export type ChannelTemplate = Omit<ChannelInit, 'stream' | 'remotePeer' | 'onClose'> & { onClose: (channel: Channel) => void }

/**
 * A messenger's streams: at most one outbound stream per peer (opened on first
 * use, shared by every send while it opens), the inbound ones peers open to us,
 * and the byte counts of those already closed.
 */
export class ChannelPool {
  private readonly outbound = new Map<string, Promise<Channel>>()
  /** The open outbound channel per peer, once opened: a message to it takes no await before its write. */
  private readonly ready = new Map<string, Channel>()
  private readonly channels = new Set<Channel>()
  private closedBytes = { in: 0, out: 0 }

  constructor (private readonly template: ChannelTemplate) {}

  /** The open outbound channel to `peer`, if there is one. */
  readyTo (peer: string): Channel | undefined {
    return this.ready.get(peer)
  }

  /** The outbound channel to `peer`, opening it when there is none. */
  async channelTo (libp2p: DmsLibp2p, peer: string): Promise<Channel> {
    const existing = this.outbound.get(peer)
    if (existing != null) {
      const channel = await existing.catch(() => undefined)
      if (channel != null && !channel.isClosed) return channel
      if (this.outbound.get(peer) === existing) this.outbound.delete(peer)
    }
    const opening = this.open(libp2p, peer)
    this.outbound.set(peer, opening)
    opening.then((channel) => { if (this.outbound.get(peer) === opening && !channel.isClosed) this.ready.set(peer, channel) }, () => { if (this.outbound.get(peer) === opening) this.outbound.delete(peer) })
    return await opening
  }

  /** A stream a peer opened to us. */
  accept (stream: Stream, remotePeer: string): Channel {
    const channel = new Channel({
      ...this.template,
      stream,
      remotePeer,
      onClose: (closed) => {
        this.channels.delete(closed)
        if (this.ready.get(closed.remotePeer) === closed) this.ready.delete(closed.remotePeer)
        this.closedBytes = { in: this.closedBytes.in + closed.bytesIn, out: this.closedBytes.out + closed.bytesOut }
        this.template.onClose(closed)
      }
    })
    this.channels.add(channel)
    return channel
  }

  async closeAll (): Promise<void> {
    await Promise.allSettled([...this.channels].map(async (channel) => { await channel.close() }))
    this.outbound.clear()
    this.ready.clear()
  }

  /** Open channels, and bytes in and out over every channel so far. */
  totals (): { open: number, bytesIn: number, bytesOut: number } {
    let bytesIn = this.closedBytes.in
    let bytesOut = this.closedBytes.out
    for (const channel of this.channels) { bytesIn += channel.bytesIn; bytesOut += channel.bytesOut }
    return { open: this.channels.size, bytesIn, bytesOut }
  }

  private async open (libp2p: DmsLibp2p, peer: string): Promise<Channel> {
    let target
    try {
      target = peerIdFromString(peer)
    } catch {
      throw new MessageError('SEND_FAILED', `not a peer id: ${JSON.stringify(peer)}`)
    }
    try {
      const stream = await libp2p.dialProtocol(target, MESSENGER_PROTOCOL, { runOnLimitedConnection: true })
      return this.accept(stream, peer)
    } catch (err) {
      throw new MessageError('SEND_FAILED', `cannot open a messenger stream to ${peer}: ${(err as Error).message}`)
    }
  }
}
