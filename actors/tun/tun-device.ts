import { DmsError } from '../errors.js'
import { loadAddon } from '../native/addon.js'
import { access, constants } from 'node:fs/promises'

/**
 * Called once per wake-up with the `count` packets read, framed in `batch` as
 * `[u16 length][u16 segment size][packet]...` (big-endian; the VPN's wire format
 * /dms/vpn/2.0.0, walked with `eachPacket` of actors/vpn/vpn-frames.ts). The segment
 * size is 0 for a whole packet (checksums complete) or, with offloads, the size of
 * the segments a TCP super-packet of up to 64 KiB stands for (its TCP checksum is
 * partial: only the pseudo-header's sum).
 */
export type PacketsListener = (batch: Buffer, count: number) => void

interface NativeTun {
  readonly name: string
  readonly offload: boolean
  start: (onPackets: PacketsListener) => void
  write: (packet: Uint8Array) => number
  writeBatch: (packets: Uint8Array, lengths: Uint32Array, count: number, starts?: Uint32Array, segments?: Uint16Array) => number
  close: () => void
}

interface NativeAddon {
  Tun: new (name: string, tap: boolean, mtu: number, offload: boolean) => NativeTun
  segmentTcp: (data: Uint8Array, start: number, length: number, segment: number) => { packets: Buffer, lengths: Uint32Array } | null
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
  /**
   * Ask the kernel for TCP super-packets (TSO, up to 64 KiB a read) and checksum
   * offload (TUN only). A kernel that refuses leaves `offload` false. @default false
   */
  offload?: boolean
}

/** A TUN/TAP device: packets arrive in batches (one framed buffer and a count), writes are synchronous. */
export interface TunDevice {
  readonly name: string
  /** The kernel hands over and takes TCP super-packets (see TunInit.offload). */
  readonly offload: boolean
  /**
   * The listener is called once per wake-up (see PacketsListener). A new listener
   * replaces the previous one (a restarted data plane); the returned function
   * removes this listener if it is still the current one.
   */
  onPackets: (listener: PacketsListener) => () => void
  /** Write one packet; returns false when the kernel refused or its queue is full (the packet is dropped). */
  write: (packet: Uint8Array) => boolean
  /**
   * Write `count` packets: packet i is `lengths[i]` bytes at `starts[i]`, or without `starts` right
   * after packet i - 1; `segments[i]` as in PacketsListener (a super-packet is checked, and refused
   * by a device without offloads). Returns how many were written.
   */
  writeBatch: (packets: Uint8Array, lengths: Uint32Array, count: number, starts?: Uint32Array, segments?: Uint16Array) => number
  close: () => void
}

let native: NativeAddon | undefined

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
    device = new Tun(init.name, init.mode === 'tap', init.mtu ?? 1500, init.offload === true)
  } catch (err) {
    const code = (err as { code?: string }).code
    if (code === 'EPERM') throw new TunUnavailableError('permission denied creating the device (the VPN needs root or CAP_NET_ADMIN)')
    throw new DmsError('VPN_UNAVAILABLE', `cannot create TUN device ${init.name}: ${(err as Error).message}`)
  }
  let current: PacketsListener | undefined
  let started = false
  return {
    name: device.name,
    offload: device.offload,
    onPackets: (listener) => {
      current = listener
      if (!started) {
        started = true
        // packets read while no listener is set are dropped, like a full queue
        device.start((batch, count) => { current?.(batch, count) })
      }
      return () => { if (current === listener) current = undefined }
    },
    write: (packet) => device.write(packet) > 0,
    writeBatch: (packets, lengths, count, starts, segments) => device.writeBatch(packets, lengths, count, starts, segments),
    close: () => { device.close() }
  }
}

/**
 * A TCP super-packet (`length` bytes at `start`, as a device with offloads reads it) cut into
 * packets of at most `segment` payload bytes with complete checksums, for a peer that takes only
 * whole packets; null if it is not an IPv4 TCP packet that can be cut.
 */
export function segmentTcp (data: Uint8Array, start: number, length: number, segment: number): { packets: Buffer, lengths: Uint32Array } | null {
  return loadNative().segmentTcp(data, start, length, segment)
}
