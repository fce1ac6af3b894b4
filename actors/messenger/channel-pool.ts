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

  /**
   * The outbound channel to `peer`, opening it when there is none. Single flight:
   * every send that finds no open channel waits for the same opening, and shares
   * its failure; a closed channel is replaced once, never once per waiting send.
   */
  async channelTo (libp2p: DmsLibp2p, peer: string): Promise<Channel> {
    // a channel that closes as it opens (the peer went away) is replaced once more, then the send fails
    for (let attempt = 0; attempt < 2; attempt++) {
      const open = this.ready.get(peer)
      if (open != null && !open.isClosed) return open
      let opening = this.outbound.get(peer)
      if (opening == null) {
        opening = this.open(libp2p, peer)
        this.outbound.set(peer, opening)
        const settled = opening
        settled.then((channel) => {
          if (this.outbound.get(peer) !== settled) return
          if (channel.isClosed) this.outbound.delete(peer)
          else this.ready.set(peer, channel)
        }, () => { if (this.outbound.get(peer) === settled) this.outbound.delete(peer) })
      }
      const channel = await opening
      if (!channel.isClosed) return channel
      if (this.outbound.get(peer) === opening) this.outbound.delete(peer)
    }
    throw new MessageError('SEND_FAILED', `the messenger stream to ${peer} closed as soon as it opened`)
  }

  /** Open channels with `peer`, both directions. */
  openWith (peer: string): number {
    let count = 0
    for (const channel of this.channels) if (channel.remotePeer === peer) count++
    return count
  }

  /** A stream a peer opened to us. */
  accept (stream: Stream, remotePeer: string): Channel {
    const channel = new Channel({
      ...this.template,
      stream,
      remotePeer,
      onClose: (closed) => {
        this.channels.delete(closed)
        if (this.ready.get(closed.remotePeer) === closed) {
          this.ready.delete(closed.remotePeer)
          this.outbound.delete(closed.remotePeer)
        }
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
