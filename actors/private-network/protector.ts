import { randomBytes } from 'node:crypto'
import { AbstractMultiaddrConnection, byteStream } from '@libp2p/utils'
import type { AbortOptions, ConnectionProtector, MessageStream, MultiaddrConnection, ComponentLogger } from '@libp2p/interface'
import { createXSalsa20Stream } from './xsalsa20-stream.js'
import type { XSalsa20Stream } from './xsalsa20-stream.js'
import type { ProtectorFactory } from '../libp2p-node.js'
import { DmsError } from '../errors.js'

/** PSK v1: each side sends a random 24-byte nonce, then XSalsa20 keystreams cover every byte. */
const NONCE_LENGTH = 24

export interface PrivateNetworkInit {
  /** The 32-byte pre-shared key (raw bytes, not the swarm.key text). */
  key: Uint8Array
  /** Milliseconds for the nonce exchange. @default 5000 */
  handshakeTimeoutMs?: number
}

/** An encrypted view of the raw connection: what libp2p upgrades with Noise and Yamux. */
class PrivateConnection extends AbstractMultiaddrConnection {
  private readonly raw: MultiaddrConnection
  private readonly inbound: XSalsa20Stream
  private readonly outbound: XSalsa20Stream

  constructor (raw: MultiaddrConnection, key: Uint8Array, localNonce: Uint8Array, remoteNonce: Uint8Array) {
    super({ remoteAddr: raw.remoteAddr, direction: raw.direction, log: raw.log.newScope('private-network') })
    this.raw = raw
    this.inbound = createXSalsa20Stream(key, remoteNonce)
    this.outbound = createXSalsa20Stream(key, localNonce)
    // both directions XOR in place: inbound chunks are fresh socket reads, outbound ones fresh Noise records
    raw.addEventListener('message', (event) => {
      const data = event.data
      if (data instanceof Uint8Array) this.onData(this.inbound.update(data))
      else for (const chunk of data as Iterable<Uint8Array>) this.onData(this.inbound.update(chunk))
    })
    raw.addEventListener('drain', () => { this.onMuxerDrain() })
    raw.addEventListener('close', (event) => {
      if (event.error == null) this.onTransportClosed()
      else if (event.local === true) this.abort(event.error)
      else this.onRemoteReset()
    })
  }

  async sendClose (options?: AbortOptions): Promise<void> {
    await this.raw.close(options)
  }

  sendData (data: Parameters<AbstractMultiaddrConnection['sendData']>[0]): { sentBytes: number, canSendMore: boolean } {
    return { sentBytes: data.byteLength, canSendMore: this.raw.send(this.outbound.update(data.subarray())) }
  }

  sendReset (err: Error): void {
    this.raw.abort(err)
  }

  sendPause (): void {
    this.raw.pause()
  }

  sendResume (): void {
    this.raw.resume()
  }
}

class PrivateNetworkProtector implements ConnectionProtector {
  readonly [Symbol.toStringTag] = 'dms-network/private-network'

  constructor (private readonly key: Uint8Array, private readonly timeoutMs: number) {}

  async protect (connection: MessageStream, options?: AbortOptions): Promise<MessageStream> {
    const localNonce = new Uint8Array(randomBytes(NONCE_LENGTH))
    const signal = options?.signal ?? AbortSignal.timeout(this.timeoutMs)
    const bytes = byteStream(connection)
    const [remote] = await Promise.all([
      bytes.read({ bytes: NONCE_LENGTH, signal }),
      bytes.write(localNonce, { signal })
    ])
    return new PrivateConnection(bytes.unwrap() as MultiaddrConnection, this.key, localNonce, remote.subarray())
  }
}

/**
 * The connection protector of a dms-network private swarm: PSK v1 (the
 * go-libp2p / Kubo `swarm.key` scheme), interoperable with @libp2p/pnet, on
 * @noble/ciphers so it survives sustained traffic.
 */
export function privateNetwork (init: PrivateNetworkInit): ProtectorFactory {
  if (init.key.byteLength !== 32) throw new DmsError('SWARM_KEY_INVALID', `a private network key has 32 bytes, not ${init.key.byteLength}`)
  const key = new Uint8Array(init.key)
  return (_components: { logger: ComponentLogger }) => new PrivateNetworkProtector(key, init.handshakeTimeoutMs ?? 5000)
}
