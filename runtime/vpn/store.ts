import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { writeFileAtomic } from '../atomic-file.js'
import { decodeValue, encodeValue } from '../../actors/wire/codec.js'
import { openSignedTable } from './signed-table.js'
import type { SignedTable } from './signed-table.js'
import { DmsError } from '../errors.js'
import { readRegularFile } from '../regular-file.js'

/**
 * The VPN's file in the data dir: `vpn/table.bin`, the last signed table this
 * node used (msgpack, written atomically, 0600). Membership and every IP
 * allocation are in it, so a restarted member or leader comes back as it was.
 */
export class VpnStore {
  readonly path: string
  constructor (dataDir: string) {
    this.path = join(dataDir, 'vpn', 'table.bin')
  }

  async save (signed: SignedTable): Promise<void> {
    await writeFileAtomic(this.path, encodeValue(signed))
  }

  /** The saved table, checked like one from the wire; undefined when there is none. */
  async load (): Promise<SignedTable | undefined> {
    let bytes: Uint8Array
    try {
      bytes = await readRegularFile(this.path)
    } catch {
      return undefined
    }
    let signed: SignedTable
    try {
      signed = decodeValue(bytes) as SignedTable
      await openSignedTable(signed)
    } catch (err) {
      throw new DmsError('STATE_CORRUPT', `${this.path} is unusable (${(err as Error).message}); remove it to start afresh`)
    }
    return signed
  }

  async clear (): Promise<void> {
    await rm(this.path, { force: true })
  }
}
