import { commands } from './commands/index.js'
import { UsageError, commandHelp, parseCommand } from './command.js'
import { versionCommand } from './commands/version.js'

/** Error codes that mean the arguments were wrong, wherever they were found: exit code 2. */
const usageCodes = new Set(['CONFIG_INVALID', 'BAD_ADDRESS', 'BAD_PEER_ID', 'BAD_REQUEST'])

export function overview (): string {
  const width = Math.max(...commands.map((c) => c.name.length))
  return [
    'usage: dms-net COMMAND [ARGS] [--data DIR] [--json] [--help]',
    '',
    'commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Every command takes --data DIR to pick the node (default $DMS_NET_DATA or ~/.dms-net), --json and --help.',
    'DEBUG=dms:* logs what the node does; docs/cli.md has every command.'
  ].join('\n')
}

/**
 * One sentence for the terminal: the first line of the message, no stack
 * (DEBUG set shows the stack too).
 */
export function renderError (err: unknown): string {
  const message = (err as Error)?.message ?? String(err)
  const line = message.split('\n').map((l) => l.trim()).find((l) => l !== '') ?? String(err)
  if (process.env.DEBUG != null && process.env.DEBUG !== '' && (err as Error)?.stack != null) return `${line}\n${(err as Error).stack!}`
  return line
}

/** A closed stdout (`dms-net node | head`) ends output quietly instead of crashing. */
function ignoreClosedOutput (): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE') throw err
    })
  }
}

/** Run the CLI; resolves with the exit code: 0 ok, 1 failure, 2 bad arguments. */
export async function main (argv: string[]): Promise<number> {
  ignoreClosedOutput()
  const [name, ...rest] = argv
  if (name == null || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${overview()}\n`)
    return name == null ? 2 : 0
  }
  if (name === '--version' || name === '-V') return await versionCommand.run({ values: {}, positionals: [], dataDir: '', json: rest.includes('--json') }) ?? 0
  const command = commands.find((c) => c.name === name)
  try {
    if (command == null) throw new UsageError(`unknown command ${JSON.stringify(name)}`)
    const parsed = parseCommand(command, rest)
    if (parsed.help) {
      process.stdout.write(`${commandHelp(command, parsed.positionals[0])}\n`)
      return 0
    }
    return await command.run(parsed) ?? 0
  } catch (err) {
    const code = (err as { code?: unknown }).code
    const usage = err instanceof UsageError || (typeof code === 'string' && usageCodes.has(code))
    process.stderr.write(`dms-net${command != null ? ` ${command.name}` : ''}: ${renderError(err)}\n`)
    if (usage) {
      process.stderr.write(`try: dms-net ${command != null ? `${command.name} ` : ''}--help\n`)
      return 2
    }
    return 1
  }
}
