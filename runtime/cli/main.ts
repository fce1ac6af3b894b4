import { commands } from './commands/index.js'
import { UsageError, commandHelp, parseCommand } from './command.js'
import { versionCommand } from './commands/version.js'
import { errorJson, renderError } from './render-error.js'
import { fitText, terminalWidth } from './terminal.js'

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
    process.stdout.write(`${fitText(overview(), terminalWidth())}\n`)
    return name == null ? 2 : 0
  }
  if (name === '--version' || name === '-V') return await versionCommand.run({ values: {}, positionals: [], dataDir: '', json: rest.includes('--json') }) ?? 0
  const command = commands.find((c) => c.name === name)
  try {
    if (command == null) throw new UsageError(`unknown command ${JSON.stringify(name)}`)
    const parsed = parseCommand(command, rest)
    if (parsed.help) {
      process.stdout.write(`${fitText(commandHelp(command, parsed.positionals[0]), terminalWidth())}\n`)
      return 0
    }
    return await command.run(parsed) ?? 0
  } catch (err) {
    const code = (err as { code?: unknown }).code
    const usage = err instanceof UsageError || (typeof code === 'string' && usageCodes.has(code))
    if (rest.includes('--json')) {
      // a script reading --json gets JSON on both streams: one object on stderr, the exit code as always
      process.stderr.write(`${errorJson(err, usage ? 'USAGE' : 'FAILED')}\n`)
      return usage ? 2 : 1
    }
    process.stderr.write(`dms-net${command != null ? ` ${command.name}` : ''}: ${renderError(err)}\n`)
    if (usage) {
      process.stderr.write(`try: dms-net ${command != null ? `${command.name} ` : ''}--help\n`)
      return 2
    }
    return 1
  }
}
