import { loadAddon } from '../native/addon.js'
import { xsalsa20 } from '@noble/ciphers/salsa.js'
import { DmsError } from '../errors.js'

const BLOCK = 64
const zeroBlock = new Uint8Array(BLOCK)

/**
 * XSalsa20 as a continuous keystream over many `update` calls, the way the
 * PSK v1 private network uses it. Whole blocks go straight to @noble/ciphers
 * with the running block counter; the unused tail of a partial block is kept
 * for the next call. @noble/ciphers holds no WebAssembly memory, so it cannot
 * hit the memory-growth failures of the `xsalsa20` package used by @libp2p/pnet 3.0.27.
 */
export class NobleXSalsa20Stream {
  private counter = 0
  private tail = new Uint8Array(0)
  private tailPos = 0

  constructor (private readonly key: Uint8Array, private readonly nonce: Uint8Array) {
    if (key.byteLength !== 32) throw new DmsError('SWARM_KEY_INVALID', 'xsalsa20 needs a 32-byte key')
    if (nonce.byteLength !== 24) throw new DmsError('SWARM_KEY_INVALID', 'xsalsa20 needs a 24-byte nonce')
  }

  /** XOR `data` in place with the next bytes of keystream; returns `data`. */
  update (data: Uint8Array): Uint8Array {
    const out = data
    let i = 0
    while (this.tailPos < this.tail.byteLength && i < data.byteLength) {
      out[i] = data[i]! ^ this.tail[this.tailPos++]!
      i++
    }
    const whole = Math.floor((data.byteLength - i) / BLOCK) * BLOCK
    if (whole > 0) {
      xsalsa20(this.key, this.nonce, data.subarray(i, i + whole), out.subarray(i, i + whole), this.counter)
      this.counter += whole / BLOCK
      i += whole
    }
    if (i < data.byteLength) {
      this.tail = xsalsa20(this.key, this.nonce, zeroBlock, undefined, this.counter)
      this.counter++
      this.tailPos = 0
      while (i < data.byteLength) {
        out[i] = data[i]! ^ this.tail[this.tailPos++]!
        i++
      }
    }
    return out
  }
}

interface NativeXSalsa20 { update: (input: Uint8Array, output: Uint8Array) => void }
type NativeXSalsa20Class = new (key: Uint8Array, nonce: Uint8Array) => NativeXSalsa20

/** The native cipher (native/xsalsa20.cc), when the addon is built; ~8× faster at packet-sized chunks. */
const native: NativeXSalsa20Class | undefined = (() => {
  try {
    return loadAddon<{ XSalsa20: NativeXSalsa20Class }>('xsalsa20').XSalsa20
  } catch {
    return undefined
  }
})()

/** Which implementation `createXSalsa20Stream` uses here. */
export const xsalsa20Implementation: 'native' | 'noble' = native != null ? 'native' : 'noble'

/**
 * A continuous XSalsa20 keystream: `update(data)` XORs `data` in place with the
 * next keystream bytes and returns it. In place, because a fresh array per chunk
 * costs more than the cipher (GC pressure from external memory): callers pass
 * bytes they own.
 */
export interface XSalsa20Stream { update: (data: Uint8Array) => Uint8Array }

/** The native cipher if it is built, else @noble/ciphers; both give the same keystream. */
export function createXSalsa20Stream (key: Uint8Array, nonce: Uint8Array, implementation = xsalsa20Implementation): XSalsa20Stream {
  if (implementation === 'noble' || native == null) return new NobleXSalsa20Stream(key, nonce)
  const cipher = new native(key, nonce)
  return {
    update: (data) => {
      cipher.update(data, data)
      return data
    }
  }
}
