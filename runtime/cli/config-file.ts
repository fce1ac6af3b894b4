import { UsageError } from './command.js'
import { CONFIG_KEYS } from '../config.js'
import type { NodeConfigInit } from '../config.js'
import type { VpnInit } from '../vpn/vpn-types.js'
import { vpnFileOptions } from './vpn-options.js'
import { jsonErrorText } from './arguments.js'
import { readRegularFile } from '../regular-file.js'

/** Top-level keys a --config file may hold: the `createNode` configuration options, and `vpn`. */
const KEYS: readonly string[] = [...CONFIG_KEYS, 'vpn']

/**
 * Read a `--config FILE`: JSON whose keys are `createNode` options, and `vpn`, an object of
 * `createVpn` options (docs/cli.md). Values are checked by the node's and the VPN's own
 * parsers; this rejects what they cannot be: unreadable files, bad JSON, unknown keys.
 */
export async function readConfigFile (path: string): Promise<{ node: NodeConfigInit, vpn: VpnInit }> {
  let text
  try {
    text = await readRegularFile(path, 'utf8')
  } catch (err) {
    throw new UsageError(`cannot read --config ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    throw new UsageError(`--config ${path} is not valid JSON: ${jsonErrorText(err)}`)
  }
  if (value == null || typeof value !== 'object' || Array.isArray(value)) throw new UsageError(`--config ${path} must hold a JSON object of createNode options`)
  const unknown = Object.keys(value).filter((key) => !KEYS.includes(key))
  if (unknown.length > 0) throw new UsageError(`--config ${path}: unknown option ${unknown.map((k) => JSON.stringify(k)).join(', ')} (known: ${KEYS.join(', ')})`)
  const { vpn, ...node } = value as NodeConfigInit & { vpn?: unknown }
  return { node, vpn: vpnFileOptions(vpn, path) }
}
