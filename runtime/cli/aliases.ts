import { join } from 'node:path'
import { writeFileAtomic } from '../atomic-file.js'
import { UsageError } from './command.js'
import { isPeerId, jsonErrorText } from './arguments.js'
import { readRegularFile } from '../regular-file.js'

/** Local names for peers (`gpu-box` → `12D3KooW…`), kept by the CLI in `DATA/aliases.json`. */
export type Aliases = Record<string, string>

/** A name: a lower-case letter, then letters, digits, `-`, `_` or `.` (at most 24, so `alias list` fits 80 columns). */
const ALIAS = /^[a-z][a-z0-9._-]{0,23}$/

const aliasFile = (dataDir: string): string => join(dataDir, 'aliases.json')

export async function readAliases (dataDir: string): Promise<Aliases> {
  let text: string
  try {
    text = await readRegularFile(aliasFile(dataDir), 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {}
    throw err
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (err) {
    throw new UsageError(`${aliasFile(dataDir)} is not valid JSON (${jsonErrorText(err)}): fix it or remove it`)
  }
  if (parsed == null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new UsageError(`${aliasFile(dataDir)} is not a JSON object of names`)
  // keep only well-formed entries: a hand-edited file cannot smuggle anything else into a command;
  // no prototype, so `toString` or `constructor` are names like any other, never Object's own members
  const aliases: Aliases = Object.create(null) as Aliases
  for (const [name, peer] of Object.entries(parsed)) if (ALIAS.test(name) && typeof peer === 'string' && isPeerId(peer)) aliases[name] = peer
  return aliases
}

export function checkAliasName (name: string): string {
  if (!ALIAS.test(name)) throw new UsageError(`alias ${JSON.stringify(name.slice(0, 40))}: a name is a lower-case letter, then at most 23 of a-z 0-9 . _ -`)
  return name
}

export async function writeAliases (dataDir: string, aliases: Aliases): Promise<void> {
  const sorted = Object.fromEntries(Object.entries(aliases).sort(([a], [b]) => a.localeCompare(b)))
  await writeFileAtomic(aliasFile(dataDir), `${JSON.stringify(sorted, null, 2)}\n`)
}

/** The alias of each peer that has one, to show beside its id (the first by name when it has several). */
export function aliasOf (aliases: Aliases): Map<string, string> {
  const names = new Map<string, string>()
  for (const [name, peer] of Object.entries(aliases).sort(([a], [b]) => a.localeCompare(b))) if (!names.has(peer)) names.set(peer, name)
  return names
}
