import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { writeFileAtomic } from '../atomic-file.js'
import { CONFIG_KEYS, parseConfig } from '../config.js'
import type { NodeConfigInit } from '../config.js'
import { UsageError } from './command.js'

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
    text = await readFile(savedConfigPath(dataDir), 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {}
    throw err
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    throw new UsageError(`${savedConfigPath(dataDir)} is not valid JSON (${(err as Error).message}): fix it or remove it`)
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
    if (parent[part] == null || typeof parent[part] !== 'object') parent[part] = {}
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

export function valueAt (config: NodeConfigInit, key: string): unknown {
  return keyPath(key).reduce<unknown>((value, part) => (value as Record<string, unknown> | undefined)?.[part], config)
}

export async function writeSavedConfig (dataDir: string, config: NodeConfigInit): Promise<void> {
  await writeFileAtomic(savedConfigPath(dataDir), `${JSON.stringify(config, null, 2)}\n`)
}

function keyPath (key: string): string[] {
  const path = key.split('.')
  if (!/^[a-zA-Z]+(\.[a-zA-Z]+)?$/.test(key) || !(CONFIG_KEYS as readonly string[]).includes(path[0]!) || path[0] === 'dataDir') {
    throw new UsageError(`config key ${JSON.stringify(key.slice(0, 60))}: use one of ${CONFIG_KEYS.filter((k) => k !== 'dataDir').join(', ')} (discovery.dht, pubsub.D: a nested one)`)
  }
  return path
}

function valueOf (key: string, text: string): unknown {
  try {
    return JSON.parse(text) as unknown
  } catch {
    return LIST_KEYS.has(key) ? text.split(',').map((part) => part.trim()).filter((part) => part !== '') : text
  }
}
