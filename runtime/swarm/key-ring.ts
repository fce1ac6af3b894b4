import { fingerprint } from './key-file.js'
import { DmsError } from '../errors.js'

/**
 * The swarm keys of one node, by epoch. The only place key bytes live besides
 * swarm.key: the machines name a key by epoch and fingerprint, the effects look
 * it up here, so a grant seals exactly the key its epoch names.
 */
export class KeyRing {
  private readonly keys = new Map<number, Uint8Array>()
  private activeEpoch?: number

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

  /** Use `epoch`'s key for the private host from its next (re)start; older keys are dropped. */
  activate (epoch: number): void {
    if (!this.keys.has(epoch)) throw new DmsError('SWARM_FAILED', `no key for epoch ${epoch}`)
    this.activeEpoch = epoch
    for (const known of this.keys.keys()) if (known < epoch) this.keys.delete(known)
  }

  get active (): Uint8Array | undefined {
    return this.activeEpoch == null ? undefined : this.keys.get(this.activeEpoch)
  }

  clear (): void {
    this.keys.clear()
    this.activeEpoch = undefined
  }
}
