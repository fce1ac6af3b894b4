import { UsageError } from './command.js'

// Checks the CLI runs itself, before it connects to a node: a bad argument is
// exit code 2 with one line and a hint, and costs no libp2p import.

const BASE58 = '[1-9A-HJ-NP-Za-km-z]'
/** Ed25519 (12D3KooW…), RSA/sha256 (Qm…) and secp256k1 (16Uiu2…) ids in base58btc, or a base32 CID (b…). */
const PEER_ID = new RegExp(`^(?:12D3KooW${BASE58}{44}|Qm${BASE58}{44}|16Uiu2${BASE58}{47}|b[a-z2-7]{50,70})$`)

/** Whether `text` is a whole peer id (its form; not whether the key in it is valid). */
export const isPeerId = (text: string): boolean => PEER_ID.test(text)

/** A JSON argument. */
export function jsonArg (what: string, text: string): unknown {
  try {
    return JSON.parse(text)
  } catch (err) {
    throw new UsageError(`${what} is not valid JSON: ${jsonErrorText(err)}`)
  }
}

/** JSON.parse's reason on one line, cut: it quotes the text, newlines and all, and the CLI prints an error's first line. */
export function jsonErrorText (err: unknown): string {
  return (err as Error).message.replace(/\s+/g, ' ').slice(0, 160)
}

/** A whole number flag from 1 to `max`, or undefined when absent. */
export function countArg (flag: string, value: unknown, max = 3_600_000): number | undefined {
  if (value === undefined) return undefined
  const n = Number(value)
  if (typeof value !== 'string' || !/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1 || n > max) throw new UsageError(`--${flag} needs a whole number from 1 to ${max} (got ${JSON.stringify(value)})`)
  return n
}

/** A message type name: what the messenger accepts as `type`. */
export function typeArg (text: string): string {
  if (!/^[\w.:/-]{1,128}$/.test(text)) throw new UsageError(`message type ${JSON.stringify(text.slice(0, 80))} must be 1-128 letters, digits, '.', '_', ':', '/' or '-'`)
  return text
}

/** A multiaddr argument, checked by the same rules as the node's config (loads the multiaddr parser only here). */
export async function multiaddrArg (text: string, needPeerId: boolean): Promise<string> {
  const { checkMultiaddr } = await import('../config.js')
  const problem = checkMultiaddr(text, needPeerId)
  if (problem != null) throw new UsageError(problem)
  return text
}

/** The port of `--inspect`: 0 to 65535 (0: any free port). */
export function inspectPort (value: string): number {
  const port = Number(value)
  if (!/^\d+$/.test(value) || port > 65535) throw new UsageError(`--inspect takes a port from 0 to 65535 (got ${JSON.stringify(value)})`)
  return port
}
