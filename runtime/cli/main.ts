import { commands } from './commands/index.js'
import { UsageError, commandHelp, parseCommand } from './command.js'
import { DmsError } from '../errors.js'

const usageCodes = new Set(['CONFIG_INVALID', 'BAD_ADDRESS'])

export function overview (): string {
  const width = Math.max(...commands.map((c) => c.name.length))
  return [
    'usage: dms-net COMMAND [ARGS] [--data DIR] [--help]',
    '',
    'commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Every command takes --data DIR to pick the node (default ~/.dms-net) and --help.'
  ].join('\n')
}

/** Run the CLI; resolves with the exit code: 0 ok, 1 failure, 2 bad arguments. */
export async function main (argv: string[]): Promise<number> {
  const [name, ...rest] = argv
  if (name == null || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${overview()}\n`)
    return name == null ? 2 : 0
  }
  const command = commands.find((c) => c.name === name)
  try {
    if (command == null) throw new UsageError(`unknown command ${JSON.stringify(name)}`)
    const parsed = parseCommand(command, rest)
    if (parsed.help) {
      process.stdout.write(`${commandHelp(command)}\n`)
      return 0
    }
    return await command.run(parsed) ?? 0
  } catch (err) {
    const code = (err as { code?: string }).code
    const usage = err instanceof UsageError || (err instanceof DmsError && usageCodes.has(err.code))
    process.stderr.write(`dms-net${command != null ? ` ${command.name}` : ''}: ${(err as Error).message ?? String(err)}\n`)
    if (usage) process.stderr.write(`try: dms-net ${command?.name ?? ''} --help\n`.replace('  ', ' '))
    if (usage) return 2
    return code === 'NODE_UNREACHABLE' ? 1 : 1
  }
}
