import { join } from 'node:path'
import { writeFileAtomic } from '../atomic-file.js'
import { CONFIG_KEYS, parseConfig } from '../config.js'
import type { NodeConfigInit } from '../config.js'
import { jsonErrorText } from './arguments.js'
import { UsageError } from './command.js'
import { readRegularFile } from '../regular-file.js'

/**
 * The data dir's saved node options (`DATA/config.json`, written by
 * `dms-net config set`): what `dms-net node` starts with, under --config and flags.
 */
export const savedConfigPath = (dataDir: string): string => join(dataDir, 'config.json')

/** Options that take a list: `config set listen A,B` splits at commas. */
const LIST_KEYS = new Set(['listen', 'bootstrap', 'discovery.stun', 'discovery.announce'])

export async function readSavedConfig (dataDir: string): Promise<NodeConfigInit> {
  let text
  try {
    text = await readRegularFile(savedConfigPath(dataDir), 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {}
    throw err
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    throw new UsageError(`${savedConfigPath(dataDir)} is not valid JSON (${jsonErrorText(err)}): fix it or remove it`)
  }
  if (value == null || typeof value !== 'object' || Array.isArray(value)) throw new UsageError(`${savedConfigPath(dataDir)} must hold a JSON object`)
  return value as NodeConfigInit
}

/** A config with `key` (dotted: `discovery.dht`) set to `text`, read as JSON when it is JSON, else as text. */
export function withValue (config: NodeConfigInit, key: string, text: string | undefined): NodeConfigInit {
  const path = keyPath(key)
  const copy = structuredClone(config) as Record<string, unknown>
  let parent = copy
  for (const part of path.slice(0, -1)) {
    if (!Object.hasOwn(parent, part)) parent[part] = {}
    if (!isPlainObject(parent[part])) throw new UsageError(`${key}: ${part} is not an object of options in the saved config`)
    parent = parent[part] as Record<string, unknown>
  }
  const last = path.at(-1)!
  if (text === undefined) delete parent[last]
  else parent[last] = valueOf(key, text)
  if (path.length > 1 && text === undefined && Object.keys(parent).length === 0) delete copy[path[0]!]
  // the node's own parser says what is wrong, naming the key; nothing invalid is saved
  try {
    parseConfig(copy as NodeConfigInit)
  } catch (err) {
    throw new UsageError((err as Error).message)
  }
  return copy as NodeConfigInit
}

/** The saved value of `key`, own properties of plain objects only (never an array's length or Object's members). */
export function valueAt (config: NodeConfigInit, key: string): unknown {
  let value: unknown = config
  for (const part of keyPath(key)) {
    if (!isPlainObject(value) || !Object.hasOwn(value, part)) return undefined
    value = value[part]
  }
  return value
}

export async function writeSavedConfig (dataDir: string, config: NodeConfigInit): Promise<void> {
  await writeFileAtomic(savedConfigPath(dataDir), `${JSON.stringify(config, null, 2)}\n`)
}

const isPlainObject = (value: unknown): value is Record<string, unknown> => value != null && typeof value === 'object' && !Array.isArray(value)

/** A top-level `createNode` option, or one inside `discovery` (and `discovery.relayLimits`) or `pubsub`. */
export function keyPath (key: string): string[] {
  const path = key.split('.')
  const nested = path.length === 1 || (['discovery', 'pubsub'].includes(path[0]!) && (path.length === 2 || (path.length === 3 && path[1] === 'relayLimits')))
  if (!/^[a-zA-Z]+(\.[a-zA-Z]+){0,2}$/.test(key) || !nested || !(CONFIG_KEYS as readonly string[]).includes(path[0]!) || path[0] === 'dataDir') {
    throw new UsageError(`config key ${JSON.stringify(key.slice(0, 60))}: use one of ${CONFIG_KEYS.filter((k) => k !== 'dataDir').join(', ')}, or a nested discovery.X or pubsub.X`)
  }
  return path
}

function valueOf (key: string, text: string): unknown {
  let value: unknown
  try {
    value = JSON.parse(text) as unknown
  } catch {
    value = LIST_KEYS.has(key) ? text.split(',').map((part) => part.trim()).filter((part) => part !== '') : text
  }
  // an empty shell variable must not save a node that listens nowhere
  if (value === null || value === '' || (Array.isArray(value) && value.length === 0 && text.trim() !== '[]')) {
    throw new UsageError(`${key}: an empty value; to go back to the default, use dms-net config unset ${key}`)
  }
  return value
}
