import { UsageError } from '../command.js'
import type { Command } from '../command.js'

/** Every command with its flags (`--name`) and subcommands, for the shell scripts. */
async function words (): Promise<Array<{ name: string, flags: string[], subcommands: string[] }>> {
  const { commands } = await import('./index.js')
  return commands.map((c) => ({
    name: c.name,
    flags: [...new Set(['--data', '--json', '--help', ...Object.keys(c.options ?? {}).map((o) => `--${o}`)])],
    // subcommands are the help lines that start with two spaces and a lower-case word
    subcommands: [...new Set((c.help ?? '').split('\n').map((line) => /^ {2}([a-z][a-z-]+)(?: |$)/.exec(line)?.[1]).filter((w): w is string => w != null))]
  }))
}

function bash (list: Awaited<ReturnType<typeof words>>): string {
  const cases = list.map((c) => `    ${c.name}) opts="${[...c.subcommands, ...c.flags].join(' ')}" ;;`).join('\n')
  return `# dms-net completion for bash: source <(dms-net completion bash)
_dms_net () {
  local cur="\${COMP_WORDS[COMP_CWORD]}" opts
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=( $(compgen -W "${list.map((c) => c.name).join(' ')} --help --version" -- "$cur") )
    return
  fi
  case "\${COMP_WORDS[1]}" in
${cases}
    *) opts="--data --json --help" ;;
  esac
  COMPREPLY=( $(compgen -W "$opts" -- "$cur") )
}
complete -o default -F _dms_net dms-net
`
}

function zsh (list: Awaited<ReturnType<typeof words>>): string {
  const cases = list.map((c) => `    ${c.name}) opts=(${[...c.subcommands, ...c.flags].join(' ')}) ;;`).join('\n')
  return `#compdef dms-net
# dms-net completion for zsh: source <(dms-net completion zsh)
_dms_net () {
  local -a opts
  if (( CURRENT == 2 )); then
    opts=(${list.map((c) => c.name).join(' ')} --help --version)
  else
    case "$words[2]" in
${cases}
    *) opts=(--data --json --help) ;;
    esac
  fi
  compadd -a opts
}
compdef _dms_net dms-net
`
}

export const completionCommand: Command = {
  name: 'completion',
  args: 'bash|zsh',
  summary: 'Print a shell completion script: source <(dms-net completion bash).',
  positionals: { required: ['SHELL'] },
  run: async (parsed) => {
    const shell = parsed.positionals[0]
    if (shell !== 'bash' && shell !== 'zsh') throw new UsageError(`completion is for bash or zsh (got ${JSON.stringify(shell)})`)
    process.stdout.write((shell === 'bash' ? bash : zsh)(await words()))
    return 0
  }
}
