import { DmsError } from '../errors.js'
import { randomBytes, createHash } from 'node:crypto'
import { writeFileAtomic } from '../atomic-file.js'
import { readRegularFile } from '../regular-file.js'

/** First line of a PSK v1 swarm key (Kubo / go-libp2p `swarm.key`). */
export const PSK_V1_HEADER = '/key/swarm/psk/1.0.0/'
export const KEY_BYTES = 32
export type SwarmKeyEncoding = 'base16' | 'base64' | 'bin'

export class SwarmKeyError extends DmsError {
  constructor (message: string) {
    super('SWARM_KEY_INVALID', message)
    this.name = 'SwarmKeyError'
  }
}

/** A new random 32-byte network key. */
export const generateSwarmKey = (): Uint8Array => new Uint8Array(randomBytes(KEY_BYTES))

/** Names a key without revealing it: the first 8 bytes of SHA-256 over a domain tag and the key, hex. */
export function fingerprint (key: Uint8Array): string {
  return createHash('sha256').update('dms-network swarm key fingerprint\n').update(key).digest('hex').slice(0, 16)
}

/**
 * Read a PSK v1 key file the way go-libp2p's DecodeV1PSK does: header line,
 * encoding line (`/base16/`, `/base64/` or `/bin/`), then the first 32 bytes the
 * encoding yields (anything after them is ignored; fewer is an error). Header
 * lines tolerate surrounding white space and CRLF. `source` names the file in errors.
 */
export function parseSwarmKey (input: Uint8Array | string, source = 'swarm key'): Uint8Array {
  const bytes = typeof input === 'string' ? new TextEncoder().encode(input) : input
  const [header, afterHeader] = readLine(bytes, 0)
  if (header.trim() !== PSK_V1_HEADER) {
    // never quote the file: a misordered key file has key bytes on its first line
    throw new SwarmKeyError(`${source}: not a PSK v1 swarm key (its first line, ${header.trim().length} characters, is not ${PSK_V1_HEADER})`)
  }
  const [encoding, afterEncoding] = readLine(bytes, afterHeader)
  const rest = bytes.subarray(afterEncoding)
  let key: Uint8Array
  switch (encoding.trim()) {
    case '/base16/': {
      const hex = new TextDecoder().decode(rest).trimStart().slice(0, KEY_BYTES * 2)
      if (!/^[0-9a-fA-F]*$/.test(hex)) throw new SwarmKeyError(`${source}: the key is not hexadecimal`)
      key = new Uint8Array(Buffer.from(hex, 'hex'))
      break
    }
    case '/base64/': {
      const text = new TextDecoder().decode(rest).replace(/[\r\n]/g, '').trim()
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text)) throw new SwarmKeyError(`${source}: the key is not base64`)
      key = new Uint8Array(Buffer.from(text, 'base64')).subarray(0, KEY_BYTES)
      break
    }
    case '/bin/':
      key = rest.subarray(0, KEY_BYTES)
      break
    default:
      throw new SwarmKeyError(`${source}: the second line is not a known key encoding (expected /base16/, /base64/ or /bin/)`)
  }
  if (key.byteLength < KEY_BYTES) throw new SwarmKeyError(`${source}: the key has ${key.byteLength} bytes; a swarm key needs ${KEY_BYTES}`)
  return new Uint8Array(key)
}

/** Write a key in the PSK v1 format; base16 without a trailing newline, as @libp2p/pnet and Kubo tools write it. */
export function formatSwarmKey (key: Uint8Array, encoding: SwarmKeyEncoding = 'base16'): Uint8Array {
  if (key.byteLength !== KEY_BYTES) throw new SwarmKeyError(`a swarm key has ${KEY_BYTES} bytes, not ${key.byteLength}`)
  const head = new TextEncoder().encode(`${PSK_V1_HEADER}\n/${encoding}/\n`)
  const body = encoding === 'bin'
    ? key
    : new TextEncoder().encode(Buffer.from(key).toString(encoding === 'base16' ? 'hex' : 'base64'))
  const out = new Uint8Array(head.byteLength + body.byteLength)
  out.set(head, 0)
  out.set(body, head.byteLength)
  return out
}

export async function readSwarmKeyFile (path: string): Promise<Uint8Array> {
  let bytes: Uint8Array
  try {
    bytes = await readRegularFile(path)
  } catch (err) {
    throw new SwarmKeyError(`${path}: cannot read the swarm key (${(err as Error).message})`)
  }
  return parseSwarmKey(bytes, path)
}

/** Write atomically with mode 0600. */
export async function writeSwarmKeyFile (path: string, key: Uint8Array, encoding: SwarmKeyEncoding = 'base16'): Promise<void> {
  await writeFileAtomic(path, formatSwarmKey(key, encoding), { mode: 0o600 })
}

function readLine (bytes: Uint8Array, start: number): [string, number] {
  const newline = bytes.indexOf(0x0a, start)
  const end = newline < 0 ? bytes.byteLength : newline
  return [new TextDecoder().decode(bytes.subarray(start, end)).replace(/\r$/, ''), newline < 0 ? end : end + 1]
}
