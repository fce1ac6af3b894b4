import { DmsError } from '../errors.js'

/** What the switch needs of a protected connection: to cut it, and to hear when it ends. */
export interface CuttableConnection {
  /** libp2p's message stream status: only an `open` connection is registered. */
  status?: string
  abort: (err: Error) => void
  addEventListener: (type: 'close', listener: () => void, options?: { once?: boolean }) => void
}

/** The key a new connection uses, and which generation of key that is. */
export interface KeyInUse { key: Uint8Array, generation: number }

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => a.byteLength === b.byteLength && a.every((byte, i) => byte === b[i])

/**
 * The private host's current network key, and every connection it protects.
 * Switching to a new key takes effect for the next connection (same listener,
 * same libp2p node: the running host is rekeyed in place) and cuts every
 * connection opened on an older key, including those still in their handshake,
 * except those the caller keeps: established connections to peers it still
 * trusts, which Noise has authenticated, so a rotation does not disturb them.
 * A revoked peer keeps nothing it opened before.
 */
export class KeySwitch {
  private current?: KeyInUse
  /** Only ever grows, across clear() too: a handshake that took a key before a clear never matches a later one. */
  private generation = 0
  private readonly live = new Map<CuttableConnection, number>()

  /**
   * Use `key` from now on; returns how many connections on an older key were cut.
   * `keep` spares an older connection (it stays open on the key it opened with).
   * The same key again changes nothing.
   */
  use (key: Uint8Array, keep: (connection: object) => boolean = () => false): number {
    if (key.byteLength !== 32) throw new DmsError('SWARM_KEY_INVALID', `a private network key has 32 bytes, not ${key.byteLength}`)
    if (this.current != null && sameBytes(this.current.key, key)) return 0
    this.current = { key: new Uint8Array(key), generation: ++this.generation }
    return this.cutOlderThan(this.current.generation, 'the private network key was rotated', keep)
  }

  /** No key any more (the swarm was left or dissolved): every protected connection is cut. */
  clear (): number {
    this.current = undefined
    return this.cutOlderThan(++this.generation, 'the private network was left', () => false)
  }

  get key (): Uint8Array | undefined { return this.current?.key }

  /** For a new connection: the key it must use now. */
  take (): KeyInUse {
    if (this.current == null) throw new DmsError('SWARM_FAILED', 'no private network key is configured')
    return this.current
  }

  /**
   * Register a connection encrypted with `generation`'s key. One whose key was
   * switched away during its handshake is cut at once, and `false` says so.
   */
  admit (connection: CuttableConnection, generation: number): boolean {
    if (this.current?.generation !== generation) {
      connection.abort(new DmsError('SWARM_FAILED', 'the private network key changed during the handshake'))
      return false
    }
    // closed already (its close event has fired): registering it would keep it forever
    if (connection.status != null && connection.status !== 'open') return false
    this.live.set(connection, generation)
    connection.addEventListener('close', () => { this.live.delete(connection) }, { once: true })
    return true
  }

  /** How many protected connections are open (for tests and status). */
  get size (): number { return this.live.size }

  private cutOlderThan (generation: number, reason: string, keep: (connection: object) => boolean): number {
    let cut = 0
    for (const [connection, opened] of this.live) {
      if (opened >= generation || keep(connection)) continue
      this.live.delete(connection)
      connection.abort(new DmsError('SWARM_FAILED', reason))
      cut++
    }
    return cut
  }
}
