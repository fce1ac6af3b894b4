import { UsageError } from '../command.js'
import type { Command } from '../command.js'
import { output, print } from '../client-call.js'
import { checkAliasName, readAliases, writeAliases } from '../aliases.js'
import { peerArg } from '../peer-arg.js'
import { table } from '../format.js'

const usage = `subcommands:
  set NAME PEER    name a peer: every PEER argument then takes NAME
  remove NAME      forget a name
  list             the names and their peers (the default)
Names live in DATA/aliases.json, for this data dir's CLI only; peers never see them.
example: dms-net alias set gpu-box 12D3KooWAbc`

export const aliasCommand: Command = {
  name: 'alias',
  args: '[set NAME PEER | remove NAME | list]',
  summary: 'Local names for peers, taken wherever a PEER is.',
  help: usage,
  positionals: { required: [], rest: true },
  run: async (parsed) => {
    const [sub = 'list', ...args] = parsed.positionals
    const aliases = await readAliases(parsed.dataDir)
    const need = (count: number, what: string): void => { if (args.length !== count) throw new UsageError(`alias ${sub} needs ${what}`) }
    switch (sub) {
      case 'set': {
        need(2, 'NAME PEER')
        const name = checkAliasName(args[0]!)
        // the name must not stand for itself: resolve PEER before it exists
        const peer = await peerArg(parsed.dataDir, args[1]!)
        await writeAliases(parsed.dataDir, { ...aliases, [name]: peer })
        output(parsed, { name, peer }, () => `${name} → ${peer}`)
        return 0
      }
      case 'remove': {
        need(1, 'NAME')
        if (!Object.hasOwn(aliases, args[0]!)) throw new UsageError(`no alias ${JSON.stringify(args[0]!.slice(0, 40))} (dms-net alias list)`)
        const { [args[0]!]: removed, ...rest } = aliases
        await writeAliases(parsed.dataDir, rest)
        output(parsed, { name: args[0], peer: removed }, () => `removed ${args[0]!} (was ${removed!})`)
        return 0
      }
      case 'list': {
        need(0, 'no arguments')
        const rows = Object.entries(aliases)
        if (parsed.json) print(JSON.stringify(aliases))
        else print(rows.length === 0 ? '(no aliases: dms-net alias set NAME PEER)' : table([['NAME', 'PEER'], ...rows]))
        return 0
      }
      default:
        throw new UsageError(`unknown alias subcommand ${JSON.stringify(sub.slice(0, 40))}`)
    }
  }
}
