import { UsageError } from '../command.js'
import type { Command } from '../command.js'
import { output, print } from '../client-call.js'
import { readSavedConfig, savedConfigPath, valueAt, withValue, writeSavedConfig } from '../saved-config.js'

const usage = `subcommands:
  show                 the saved options (the default)
  get KEY              one option, as JSON
  set KEY VALUE        save an option: VALUE is JSON, or text (a list at commas)
  unset KEY            remove an option (back to its default)
KEY: a createNode option (docs/cli.md), or a nested one: discovery.dht,
pubsub.colocationThreshold. A negative VALUE goes after --, with --data before:
dms-net config --data DIR set pubsub.colocationWeight -- -10
The options live in DATA/config.json; dms-net node starts with them, --config FILE
and flags override them. A running node takes them when it restarts.
examples: dms-net config set listen /ip4/0.0.0.0/tcp/4001
          dms-net config set discovery.dht true`

export const configCommand: Command = {
  name: 'config',
  args: '[show | get KEY | set KEY VALUE | unset KEY]',
  summary: 'The node options saved in the data dir, which dms-net node starts with.',
  help: usage,
  positionals: { required: [], rest: true },
  run: async (parsed) => {
    const [sub = 'show', ...args] = parsed.positionals
    const need = (count: number, what: string): void => { if (args.length !== count) throw new UsageError(`config ${sub} needs ${what}`) }
    const config = await readSavedConfig(parsed.dataDir)
    switch (sub) {
      case 'show':
        need(0, 'no arguments')
        if (parsed.json) print(JSON.stringify(config))
        else print(Object.keys(config).length === 0 ? `(no saved options: defaults; dms-net config set KEY VALUE writes ${savedConfigPath(parsed.dataDir)})` : JSON.stringify(config, null, 2))
        return 0
      case 'get': {
        need(1, 'KEY')
        const value = valueAt(config, args[0]!)
        // like git config: a key that is not set is a failure (exit 1), not a bad argument
        if (value === undefined) throw new Error(`${args[0]!} is not set (its default applies)`)
        print(JSON.stringify(value))
        return 0
      }
      case 'set':
      case 'unset': {
        need(sub === 'set' ? 2 : 1, sub === 'set' ? 'KEY VALUE' : 'KEY')
        if (sub === 'unset' && valueAt(config, args[0]!) === undefined) throw new Error(`${args[0]!} is not set`)
        const next = withValue(config, args[0]!, sub === 'set' ? args[1]! : undefined)
        await writeSavedConfig(parsed.dataDir, next)
        const value = valueAt(next, args[0]!)
        output(parsed, { key: args[0], value: value ?? null }, () => `${args[0]!} ${value === undefined ? 'unset' : `= ${JSON.stringify(value)}`} (a running node takes it when it restarts)`)
        return 0
      }
      default:
        throw new UsageError(`unknown config subcommand ${JSON.stringify(sub.slice(0, 40))}`)
    }
  }
}
