import { randomBytes } from 'node:crypto'
import { byteStream } from '@libp2p/utils'
import type { Uint8ArrayList } from 'uint8arraylist'
import type { AbortOptions, ConnectionProtector, MessageStream, MultiaddrConnection, ComponentLogger } from '@libp2p/interface'
import { createXSalsa20Stream } from './xsalsa20-stream.js'
import type { ProtectorFactory } from '../libp2p-node.js'
import { DmsError } from '../errors.js'
import { KeySwitch } from './key-switch.js'

/** PSK v1: each side sends a random 24-byte nonce, then XSalsa20 keystreams cover every byte. */
const NONCE_LENGTH = 24

export interface PrivateNetworkInit {
  /** The 32-byte pre-shared key (raw bytes, not the swarm.key text). */
  key?: Uint8Array
  /**
   * Or a switch whose current key each new connection takes: switching it rekeys
   * the running host and cuts the connections on the old key.
   */
  keys?: KeySwitch
  /** Milliseconds for the nonce exchange, within libp2p's upgrade timeout. @default 2000 */
  handshakeTimeoutMs?: number
}

/**
 * The parts of libp2p's message stream (@libp2p/utils AbstractMessageStream) that the
 * protector takes over on the raw connection: every byte the socket delivers passes
 * `onData`, every byte sent passes `sendData`, and `readBuffer` holds what arrived
 * before anyone listened.
 */
interface RawConnection {
  onData: (data: Uint8Array | Uint8ArrayList) => void
  sendData: (data: Uint8ArrayList) => { sentBytes: number, canSendMore: boolean }
  readBuffer: Uint8ArrayList
}

/**
 * Encrypt the raw connection in place: its data path gets an XSalsa20 keystream each
 * way, and it stays the connection libp2p upgrades with Noise and yamux. No second
 * message-stream layer (buffers, send queue, events per chunk) sits on the hot path;
 * both directions XOR in place (inbound chunks are fresh socket reads, outbound ones
 * fresh Noise records).
 */
function encryptInPlace (raw: MultiaddrConnection, key: Uint8Array, localNonce: Uint8Array, remoteNonce: Uint8Array): MultiaddrConnection {
  const inbound = createXSalsa20Stream(key, remoteNonce)
  const outbound = createXSalsa20Stream(key, localNonce)
  const connection = raw as unknown as RawConnection
  // bytes that came with the nonce, before anyone listened: decrypt them where they wait
  for (const chunk of connection.readBuffer) inbound.update(chunk)
  const onData = connection.onData.bind(raw)
  const sendData = connection.sendData.bind(raw)
  connection.onData = (data) => {
    if (data instanceof Uint8Array) inbound.update(data)
    else for (const chunk of data) inbound.update(chunk)
    onData(data)
  }
  // What the socket did not take comes back at the front of the next call, already encrypted
  let encryptedAhead = 0
  connection.sendData = (data) => {
    let skip = encryptedAhead
    for (const chunk of data) {
      if (skip >= chunk.byteLength) { skip -= chunk.byteLength; continue }
      outbound.update(skip > 0 ? chunk.subarray(skip) : chunk)
      skip = 0
    }
    const result = sendData(data)
    encryptedAhead = Math.max(encryptedAhead, data.byteLength) - result.sentBytes
    return result
  }
  return raw
}

class PrivateNetworkProtector implements ConnectionProtector {
  readonly [Symbol.toStringTag] = 'dms-network/private-network'

  constructor (private readonly keys: KeySwitch, private readonly timeoutMs: number) {}

  async protect (connection: MessageStream, options?: AbortOptions): Promise<MessageStream> {
    const { key, generation } = this.keys.take()
    const localNonce = new Uint8Array(randomBytes(NONCE_LENGTH))
    // the nonce has its own short deadline inside libp2p's upgrade timeout: a socket that sends
    // nothing holds an upgrade slot for this long at most
    const deadline = AbortSignal.timeout(this.timeoutMs)
    const signal = options?.signal != null ? AbortSignal.any([options.signal, deadline]) : deadline
    const bytes = byteStream(connection)
    const [remote] = await Promise.all([
      bytes.read({ bytes: NONCE_LENGTH, signal }),
      bytes.write(localNonce, { signal })
    ])
    const raw = bytes.unwrap() as MultiaddrConnection
    if (!this.keys.admit(raw, generation)) throw new DmsError('SWARM_FAILED', 'the private network key changed during the handshake')
    return encryptInPlace(raw, key, localNonce, remote.subarray())
  }
}

/**
 * The connection protector of a dms-network private swarm: PSK v1 (the
 * go-libp2p / Kubo `swarm.key` scheme), interoperable with @libp2p/pnet, on
 * @noble/ciphers so it survives sustained traffic.
 */
export function privateNetwork (init: PrivateNetworkInit): ProtectorFactory {
  const keys = init.keys ?? new KeySwitch()
  if (init.key != null) keys.use(init.key)
  if (keys.key == null) throw new DmsError('SWARM_KEY_INVALID', 'a private network needs a key: pass key or a switch that holds one')
  return (_components: { logger: ComponentLogger }) => new PrivateNetworkProtector(keys, init.handshakeTimeoutMs ?? 2000)
}
