import { DmsError } from '../errors.js'
import { loadAddon } from '../native/addon.js'
import { access, constants } from 'node:fs/promises'

interface NativeTun {
  readonly name: string
  start: (onPackets: (packets: Buffer, lengths: Uint32Array) => void) => void
  write: (packet: Uint8Array) => number
  /** Write `count` packets: packet i is `lengths[i]` bytes at `starts[i]`, or without `starts` right after packet i - 1. */
  writeBatch: (packets: Uint8Array, lengths: Uint32Array, count: number, starts?: Uint32Array) => number
  close: () => void
}

/** Why the VPN cannot have a TUN device here, in words a user can act on. */
export class TunUnavailableError extends DmsError {
  constructor (reason: string) {
    super('VPN_UNAVAILABLE', `TUN devices are not available: ${reason}`)
    this.name = 'TunUnavailableError'
  }
}

export interface TunInit {
  /** Interface name, at most 15 characters. */
  name: string
  /** TAP (ethernet frames) instead of TUN (IP packets). @default 'tun' */
  mode?: 'tun' | 'tap'
  /** Largest packet the device carries; sizes the read buffer. @default 1500 */
  mtu?: number
}

/** A TUN/TAP device: packets arrive in batches (one buffer + lengths), writes are synchronous. */
export interface TunDevice {
  readonly name: string
  /**
   * Called once per wake-up with every packet read, back to back in `packets`.
   * A new listener replaces the previous one (a restarted data plane); the
   * returned function removes this listener if it is still the current one.
   */
  onPackets: (listener: (packets: Buffer, lengths: Uint32Array) => void) => () => void
  /** Write one packet; returns false when the kernel refused or its queue is full (the packet is dropped). */
  write: (packet: Uint8Array) => boolean
  /** Write `count` packets stored back to back; returns how many were written. */
  writeBatch: (packets: Uint8Array, lengths: Uint32Array, count: number, starts?: Uint32Array) => number
  close: () => void
}

let native: { Tun: new (name: string, tap: boolean, mtu: number) => NativeTun } | undefined

function loadNative (): NonNullable<typeof native> {
  if (native != null) return native
  try {
    native = loadAddon<NonNullable<typeof native>>('tun')
    return native
  } catch (err) {
    throw new TunUnavailableError((err as Error).message)
  }
}

/** Open a TUN (or TAP) device. Throws TunUnavailableError without root or /dev/net/tun. */
export async function openTun (init: TunInit): Promise<TunDevice> {
  await access('/dev/net/tun', constants.R_OK | constants.W_OK).catch(() => {
    throw new TunUnavailableError('/dev/net/tun is missing or not accessible (the VPN needs root, or CAP_NET_ADMIN, and the tun module)')
  })
  const { Tun } = loadNative()
  let device: NativeTun
  try {
    device = new Tun(init.name, init.mode === 'tap', init.mtu ?? 1500)
  } catch (err) {
    const code = (err as { code?: string }).code
    if (code === 'EPERM') throw new TunUnavailableError('permission denied creating the device (the VPN needs root or CAP_NET_ADMIN)')
    throw new DmsError('VPN_UNAVAILABLE', `cannot create TUN device ${init.name}: ${(err as Error).message}`)
  }
  let current: ((packets: Buffer, lengths: Uint32Array) => void) | undefined
  let started = false
  return {
    name: device.name,
    onPackets: (listener) => {
      current = listener
      if (!started) {
        started = true
        // packets read while no listener is set are dropped, like a full queue
        device.start((packets, lengths) => { current?.(packets, lengths) })
      }
      return () => { if (current === listener) current = undefined }
    },
    write: (packet) => device.write(packet) > 0,
    writeBatch: (packets, lengths, count, starts) => starts == null ? device.writeBatch(packets, lengths, count) : device.writeBatch(packets, lengths, count, starts),
    close: () => { device.close() }
  }
}
