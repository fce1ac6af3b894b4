import { access, constants } from 'node:fs/promises'
import { join } from 'node:path'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { PrivateKey } from '@libp2p/interface'
import { writeFileAtomic } from './atomic-file.js'
import { DmsError } from './errors.js'
import { makeDir } from './make-dir.js'
import { readRegularFile } from './regular-file.js'

/** File name of the node's private key inside the data dir (libp2p protobuf encoding). */
export const identityFileName = 'identity.key'

export interface Identity {
  privateKey: PrivateKey
  peerId: string
  /** True when this call created the identity. */
  created: boolean
}

/** Make sure the data dir exists and is writable, with a message that says what to do if not. */
export async function ensureDataDir (dataDir: string): Promise<void> {
  try {
    await makeDir(dataDir)
    await access(dataDir, constants.R_OK | constants.W_OK)
  } catch (err) {
    throw new DmsError('DATA_DIR_UNUSABLE', `data dir ${dataDir} is not usable: ${(err as Error).message}`, { cause: err })
  }
}

/**
 * Load the node's Ed25519 identity from the data dir, creating it (atomically,
 * mode 0600) on first run, so the peer id is stable across restarts.
 */
export async function loadOrCreateIdentity (dataDir: string): Promise<Identity> {
  await ensureDataDir(dataDir)
  const path = join(dataDir, identityFileName)
  let bytes: Uint8Array | undefined
  try {
    bytes = await readRegularFile(path)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new DmsError('IDENTITY_UNREADABLE', `cannot read identity ${path}: ${(err as Error).message}`, { cause: err })
    }
  }
  if (bytes != null) {
    try {
      const privateKey = privateKeyFromProtobuf(bytes)
      return { privateKey, peerId: peerIdFromPrivateKey(privateKey).toString(), created: false }
    } catch (err) {
      throw new DmsError('IDENTITY_UNREADABLE', `identity file ${path} is corrupt (${(err as Error).message}); move it away to create a new identity`, { cause: err })
    }
  }
  const privateKey = await generateKeyPair('Ed25519')
  await writeFileAtomic(path, privateKeyToProtobuf(privateKey), { mode: 0o600 })
  return { privateKey, peerId: peerIdFromPrivateKey(privateKey).toString(), created: true }
}
