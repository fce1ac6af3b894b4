import { DmsError } from '../errors.js'
import { parseArgs } from 'node:util'
import type { ParseArgsConfig } from 'node:util'
import { defaultDataDir } from '../data-dir.js'

/** A bad command line: printed as one line, exit code 2. */
export class UsageError extends DmsError {
  constructor (message: string) {
    super('USAGE', message)
    this.name = 'UsageError'
  }
}

export type Options = NonNullable<ParseArgsConfig['options']>

export interface Parsed {
  values: Record<string, string | boolean | string[] | undefined>
  positionals: string[]
  dataDir: string
  /** --json: print machine-readable output (every command takes it). */
  json: boolean
}

/** One `dms-net` command. Adding a command is one file plus one line in commands/index.ts. */
export interface Command {
  name: string
  /** One line for `dms-net --help`. */
  summary: string
  /** The argument synopsis, e.g. `TARGET`. */
  args?: string
  /** Extra help text: flags and examples. */
  help?: string
  options?: Options
  /** String options whose value may be left out (`--inspect` alone means `--inspect=<default>`). */
  optionalValues?: Record<string, string>
  /** Required positional arguments, by name, for the usage error. */
  positionals?: { required: string[], rest?: boolean }
  run: (parsed: Parsed) => Promise<number | undefined>
}

const common: Options = {
  data: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' }
}

/** Parse a command's argv, with the common --data and --help flags; throws UsageError. */
export function parseCommand (command: Command, argv: string[]): Parsed & { help: boolean } {
  let result
  try {
    const args = argv.map((arg, i) => {
      const name = arg.startsWith('--') ? arg.slice(2) : undefined
      const fallback = name != null ? command.optionalValues?.[name] : undefined
      // `--inspect` followed by nothing or by another flag takes its default; `--inspect 8080` keeps the value
      return fallback != null && (i + 1 >= argv.length || argv[i + 1]!.startsWith('-') || !/^\d+$/.test(argv[i + 1]!)) ? `${arg}=${fallback}` : arg
    })
    result = parseArgs({ args, options: { ...common, ...command.options }, allowPositionals: true, strict: true })
  } catch (err) {
    throw new UsageError(argsError((err as Error).message))
  }
  const values = result.values as Parsed['values']
  const help = values.help === true
  const required = command.positionals?.required ?? []
  if (!help && result.positionals.length < required.length) {
    throw new UsageError(`${command.name} needs ${required.slice(result.positionals.length).join(' ')}`)
  }
  if (!help && command.positionals?.rest !== true && result.positionals.length > required.length) {
    throw new UsageError(`unexpected argument ${JSON.stringify(result.positionals[required.length])}`)
  }
  const data = values.data
  if (data !== undefined && (typeof data !== 'string' || data === '')) throw new UsageError('--data needs a directory')
  return { values, positionals: result.positionals, dataDir: typeof data === 'string' ? data : defaultDataDir(), json: values.json === true, help }
}

/**
 * Help for a command, or for one of its subcommands (`swarm create --help`):
 * the lines of the command's help that describe that subcommand.
 */
export function commandHelp (command: Command, subcommand?: string): string {
  const lines = subcommand != null ? (command.help ?? '').split('\n').filter((line) => line.startsWith(`  ${subcommand} `) || line === `  ${subcommand}`) : []
  if (lines.length > 0) {
    return [
      ...lines.map((line, i) => `${i === 0 ? 'usage:' : '      '} dms-net ${command.name} ${line.trim().replace(/\s{2,}/, '\n        ')}`),
      '',
      `  --data DIR   the node's data directory (default $DMS_NET_DATA or ~/.dms-net; now ${defaultDataDir()})`,
      '  --json       machine-readable output',
      '',
      `all ${command.name} subcommands: dms-net ${command.name} --help`
    ].join('\n')
  }
  return [
    `usage: dms-net ${command.name}${command.args != null ? ` ${command.args}` : ''} [--data DIR]`,
    '',
    command.summary,
    ...(command.help != null ? ['', command.help.trimEnd()] : []),
    '',
    `  --data DIR   the node's data directory (default $DMS_NET_DATA or ~/.dms-net; now ${defaultDataDir()})`,
    '  --json       machine-readable output (one JSON document, or JSON lines for streams)',
    '  --help       this text'
  ].join('\n')
}

/**
 * node:util parseArgs's message, in the CLI's words: a value that starts with '-' (`--count -1`) is
 * "ambiguous" to it, and it names short forms the docs do not use (`-c, --count <value>`).
 */
export function argsError (message: string): string {
  const ambiguous = /^Option '(?:-\w, )?(--[\w-]+)[^']*' argument is ambiguous/.exec(message)
  if (ambiguous != null) return `${ambiguous[1]} needs a value; one that starts with '-' goes as ${ambiguous[1]}=VALUE`
  const missing = /^Option '(?:-\w, )?(--[\w-]+)[^']*' argument missing/.exec(message)
  if (missing != null) return `${missing[1]} needs a value`
  return message.replace(/\. To specify a positional.*$/s, '')
}
