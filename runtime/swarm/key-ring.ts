import { fingerprint } from './key-file.js'
import { DmsError } from '../errors.js'
import { KeySwitch } from '../../actors/private-network/key-switch.js'

/**
 * The swarm keys of one node, by epoch. The only place key bytes live besides
 * swarm.key: the machines name a key by epoch and fingerprint, the effects look
 * it up here, so a grant seals exactly the key its epoch names.
 */
export class KeyRing {
  private readonly keys = new Map<number, Uint8Array>()
  private activeEpoch?: number
  /** What the private host's protector reads: the active key, and the connections opened on each. */
  readonly switch = new KeySwitch()

  add (epoch: number, key: Uint8Array): string {
    this.keys.set(epoch, key)
    return fingerprint(key)
  }

  /** The key of `epoch`, if its fingerprint is the one expected. */
  get (epoch: number, expectedFingerprint?: string): Uint8Array | undefined {
    const key = this.keys.get(epoch)
    if (key == null || (expectedFingerprint != null && fingerprint(key) !== expectedFingerprint)) return undefined
    return key
  }

  /**
   * Use `epoch`'s key for the private host from now on: a running host takes it for
   * every new connection and cuts those on older keys, but for the ones `keep` spares
   * (see KeySwitch); older keys are dropped.
   */
  activate (epoch: number, keep?: (connection: object) => boolean): void {
    const key = this.keys.get(epoch)
    if (key == null) throw new DmsError('SWARM_FAILED', `no key for epoch ${epoch}`)
    this.activeEpoch = epoch
    for (const known of this.keys.keys()) if (known < epoch) this.keys.delete(known)
    this.switch.use(key, keep)
  }

  get active (): Uint8Array | undefined {
    return this.activeEpoch == null ? undefined : this.keys.get(this.activeEpoch)
  }

  /** Forget every key; connections still open on one are cut. */
  clear (): void {
    this.keys.clear()
    this.activeEpoch = undefined
    this.switch.clear()
  }
}
