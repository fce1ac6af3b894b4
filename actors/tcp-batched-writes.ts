import { Socket } from 'node:net'
import { tcp } from '@libp2p/tcp'
import type { MultiaddrConnection, Upgrader } from '@libp2p/interface'
import type { Uint8ArrayList } from 'uint8arraylist'

type TcpFactory = ReturnType<typeof tcp>
type Transport = ReturnType<TcpFactory>

/** The part of @libp2p/tcp's connection (an AbstractMessageStream) that hands bytes to its socket. */
interface SocketConnection {
  socket?: unknown
  sendData: (data: Uint8ArrayList) => { sentBytes: number, canSendMore: boolean }
}

/**
 * Make a raw TCP connection write each batch it is given with one `writev`. Noise
 * hands it a 2-byte length and then the record, for every record: @libp2p/tcp wrote
 * each part with its own `write`, so with Nagle off (libp2p's default) every record
 * cost two syscalls and went out as a 2-byte TCP segment and a large one. Corked, the
 * parts leave together. The whole batch is taken (what the kernel does not accept
 * waits in the socket's buffer, as a part did before), and `canSendMore` says whether
 * the socket is below its high-water mark, so backpressure is unchanged.
 */
export function batchWrites (connection: MultiaddrConnection): void {
  const raw = connection as unknown as SocketConnection
  const socket = raw.socket
  if (!(socket instanceof Socket)) return
  raw.sendData = (data) => {
    socket.cork()
    try {
      for (const part of data) socket.write(part)
    } finally {
      // never left corked: a corked socket would hold everything after silently
      socket.uncork()
    }
    return { sentBytes: data.byteLength, canSendMore: socket.writableLength < socket.writableHighWaterMark }
  }
}

/** An upgrader that batches the writes of each raw connection before upgrading it. */
function batchingUpgrader (upgrader: Upgrader): Upgrader {
  return new Proxy(upgrader, {
    get (target, key) {
      if (key === 'upgradeInbound' || key === 'upgradeOutbound') {
        const upgrade = target[key].bind(target) as (connection: MultiaddrConnection, options: unknown) => Promise<unknown>
        return async (connection: MultiaddrConnection, options: unknown) => {
          batchWrites(connection)
          return await upgrade(connection, options)
        }
      }
      const value = Reflect.get(target, key, target) as unknown
      return typeof value === 'function' ? value.bind(target) : value
    }
  })
}

/**
 * libp2p's TCP transport, every connection of which (dialled or accepted) writes in batches;
 * libp2p's own, part by part, when the environment says `DMS_NET_TCP_WRITES=parts` (to
 * compare, or to rule the batching out).
 */
export function tcpWithBatchedWrites (init?: Parameters<typeof tcp>[0]): TcpFactory {
  const factory = tcp(init)
  if (process.env.DMS_NET_TCP_WRITES === 'parts') return factory
  return (components) => {
    const transport: Transport = factory(components)
    const dial = transport.dial.bind(transport)
    const createListener = transport.createListener.bind(transport)
    transport.dial = async (address, options) => await dial(address, { ...options, upgrader: batchingUpgrader(options.upgrader) })
    transport.createListener = (options) => createListener({ ...options, upgrader: batchingUpgrader(options.upgrader) })
    return transport
  }
}
