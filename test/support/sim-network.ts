// An in-process network for simulating fleets: a libp2p transport whose connections carry bytes
// between nodes of one process through a network model — per-link one-way latency, loss (a lost
// segment arrives one round trip late, as TCP would retransmit it) and a per-link bandwidth cap —
// with order kept on each direction of a connection. Addresses are /memory/<name>.
import { ConnectionFailedError, ListenError, StreamResetError, serviceCapabilities, transportSymbol } from '@libp2p/interface'
import type { ComponentLogger, CreateListenerOptions, DialTransportOptions, Listener, MultiaddrConnection, PeerId, Transport, Upgrader } from '@libp2p/interface'
import { AbstractMultiaddrConnection } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import type { Multiaddr } from '@multiformats/multiaddr'
import { TypedEventEmitter } from 'main-event'

export interface NetworkModel {
  /** One-way latency between two listen addresses, ms (stable per pair). */
  latencyMs: (a: string, b: string) => number
  /** Chance that a segment is lost and arrives one round trip late. @default 0 */
  loss?: number
  /** Per-link bandwidth, bytes per ms (1250 = 10 Mbit/s). @default unlimited */
  bytesPerMs?: number
}

/** One direction of a connection: segments leave in order, each after the ones before it. */
class Pipe {
  private nextFree = 0
  private lastArrival = 0
  private readonly queue: Array<{ at: number, deliver: () => void }> = []
  private timer?: NodeJS.Timeout
  constructor (private readonly net: SimNetwork, private readonly oneWayMs: number) {}

  send (bytes: number, deliver: () => void): void {
    const now = performance.now()
    const model = this.net.model
    const departs = Math.max(now, this.nextFree) + (model.bytesPerMs != null ? bytes / model.bytesPerMs : 0)
    this.nextFree = departs
    const lost = (model.loss ?? 0) > 0 && Math.random() < model.loss!
    const at = Math.max(this.lastArrival, departs + this.oneWayMs + (lost ? 2 * this.oneWayMs : 0))
    this.lastArrival = at
    this.net.bytes += bytes
    this.queue.push({ at, deliver })
    this.schedule()
  }

  private schedule (): void {
    if (this.timer != null || this.queue.length === 0) return
    this.timer = setTimeout(() => {
      this.timer = undefined
      const now = performance.now()
      while (this.queue.length > 0 && this.queue[0]!.at <= now + 0.5) this.queue.shift()!.deliver()
      this.schedule()
    }, Math.max(0, this.queue[0]!.at - performance.now()))
  }
}

class SimConnection extends AbstractMultiaddrConnection {
  remote?: SimConnection
  constructor (init: ConstructorParameters<typeof AbstractMultiaddrConnection>[0], private readonly pipe: Pipe) { super(init) }

  sendData (data: Parameters<AbstractMultiaddrConnection['sendData']>[0]): { sentBytes: number, canSendMore: boolean } {
    const chunk = data.subarray()
    const remote = this.remote
    this.pipe.send(chunk.byteLength, () => { if (remote?.status === 'open') remote.onData(chunk) })
    return { sentBytes: chunk.byteLength, canSendMore: true }
  }

  sendReset (): void {
    const remote = this.remote
    this.pipe.send(0, () => { remote?.abort(new StreamResetError()) })
  }

  async sendClose (): Promise<void> {
    const remote = this.remote
    this.pipe.send(0, () => { remote?.onTransportClosed() })
  }

  sendPause (): void {}
  sendResume (): void {}
}

/** The listeners of one simulated network, by address. */
export class SimNetwork {
  readonly listeners = new Map<string, (connection: MultiaddrConnection) => void>()
  /** Bytes sent over every link so far. */
  bytes = 0
  constructor (readonly model: NetworkModel) {}

  /** The transport to give each node: `transports: [net.transport()]`. */
  transport (): (components: { peerId: PeerId, logger: ComponentLogger }) => Transport {
    return (components) => new SimTransport(this, components)
  }

  connect (from: string, fromPeer: PeerId, to: string, logger: ComponentLogger): { dialer: SimConnection, accept: () => void } {
    const accept = this.listeners.get(to)
    if (accept == null) throw new ConnectionFailedError(`no simulated listener at ${to}`)
    const oneWay = this.model.latencyMs(from, to)
    const log = logger.forComponent('sim:connection')
    const dialer = new SimConnection({ remoteAddr: multiaddr(to), direction: 'outbound', log }, new Pipe(this, oneWay))
    const listener = new SimConnection({ remoteAddr: multiaddr(`${from}-out/p2p/${fromPeer.toString()}`), direction: 'inbound', log }, new Pipe(this, oneWay))
    dialer.remote = listener
    listener.remote = dialer
    return { dialer, accept: () => { accept(listener) } }
  }
}

class SimTransport implements Transport {
  readonly [transportSymbol] = true
  readonly [Symbol.toStringTag] = 'dms-network/sim'
  readonly [serviceCapabilities] = ['@libp2p/transport']
  private address = ''
  constructor (private readonly net: SimNetwork, private readonly components: { peerId: PeerId, logger: ComponentLogger }) {}

  async dial (ma: Multiaddr, options: DialTransportOptions): Promise<ReturnType<Upgrader['upgradeOutbound']> extends Promise<infer C> ? C : never> {
    const to = ma.toString().replace(/\/p2p\/[^/]+$/, '')
    const { dialer, accept } = this.net.connect(this.address || `/memory/dialer-${this.components.peerId.toString()}`, this.components.peerId, to, this.components.logger)
    // the SYN takes one way, the answer comes back: a round trip before the upgrade starts
    await new Promise((resolve) => setTimeout(resolve, this.net.model.latencyMs(this.address, to) * 2))
    accept()
    try {
      return await options.upgrader.upgradeOutbound(dialer, options)
    } catch (err) {
      dialer.abort(err as Error)
      throw err
    }
  }

  createListener (options: CreateListenerOptions): Listener {
    const transport = this
    const net = this.net
    let address: Multiaddr | undefined
    const shutdown = new AbortController()
    const listener = Object.assign(new TypedEventEmitter<{ listening: CustomEvent, close: CustomEvent, error: CustomEvent<Error> }>(), {
      async listen (ma: Multiaddr): Promise<void> {
        const text = ma.toString()
        if (net.listeners.has(text)) throw new ListenError(`${text} is in use`)
        address = ma
        transport.address = text
        net.listeners.set(text, (connection) => {
          options.upgrader.upgradeInbound(connection, { signal: shutdown.signal }).catch((err: Error) => { connection.abort(err) })
        })
        queueMicrotask(() => { listener.safeDispatchEvent('listening') })
      },
      getAddrs: (): Multiaddr[] => address == null ? [] : [address],
      updateAnnounceAddrs: (): void => {},
      async close (): Promise<void> {
        if (address != null) net.listeners.delete(address.toString())
        shutdown.abort()
        queueMicrotask(() => { listener.safeDispatchEvent('close') })
      }
    })
    return listener as unknown as Listener
  }

  listenFilter (multiaddrs: Multiaddr[]): Multiaddr[] { return multiaddrs.filter((ma) => ma.toString().startsWith('/memory/')) }
  dialFilter (multiaddrs: Multiaddr[]): Multiaddr[] { return this.listenFilter(multiaddrs) }
}
