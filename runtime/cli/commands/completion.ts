import { UsageError } from '../command.js'
import type { Command } from '../command.js'
import { NODE_EVENT_TYPES } from '../../events.js'
import { call } from '../client-call.js'
import { readAliases } from '../aliases.js'
import type { PeerStatus } from '../../events.js'

/** Commands whose arguments are peers: completion offers aliases and the ids the running node knows. */
const PEER_COMMANDS = 'ping|send|disconnect|dial|alias|swarm|vpn'
const EVENT_TYPES = NODE_EVENT_TYPES.join(' ')

/** Aliases, then the peer ids the running node knows: for the shell scripts, quiet when no node runs. */
async function peerWords (dataDir: string): Promise<string[]> {
  const aliases = Object.keys(await readAliases(dataDir).catch(() => ({})))
  const peers = await call<PeerStatus[]>(dataDir, 'peers', {}, 1500).catch(() => [])
  return [...new Set([...aliases, ...peers.map((p) => p.peerId)])]
}

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
  const cases = list.filter((c) => c.name !== 'completion').map((c) => `    ${c.name}) opts="${[...c.subcommands, ...c.flags].join(' ')}" ;;`).join('\n')
  return `# dms-net completion for bash: source <(dms-net completion bash)
_dms_net () {
  local cur="\${COMP_WORDS[COMP_CWORD]}" opts
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=( $(compgen -W "${list.map((c) => c.name).join(' ')} --help --version" -- "$cur") )
    return
  fi
  case "\${COMP_WORDS[COMP_CWORD-1]}" in
    --type) COMPREPLY=( $(compgen -W "${EVENT_TYPES}" -- "$cur") ); return ;;
    --data|--config|--log-file|--out) COMPREPLY=( $(compgen -f -- "$cur") ); return ;;
  esac
  # the peers of the node this command line talks to: its --data, else the default
  local data=() i
  for (( i = 1; i < \${#COMP_WORDS[@]} - 1; i++ )); do
    [ "\${COMP_WORDS[i]}" = "--data" ] && data=(--data "\${COMP_WORDS[i+1]}")
  done
  case "\${COMP_WORDS[1]}" in
${cases}
    completion) opts="bash zsh fish" ;;
    *) opts="--data --json --help" ;;
  esac
  case "\${COMP_WORDS[1]}" in
    ${PEER_COMMANDS}) [[ "$cur" != -* ]] && opts="$opts $(timeout 2 dms-net completion peers "\${data[@]}" 2>/dev/null)" ;;
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
  elif [[ "$words[CURRENT-1]" == --type ]]; then
    opts=(${EVENT_TYPES})
  else
    case "$words[2]" in
${cases}
    *) opts=(--data --json --help) ;;
    esac
    case "$words[2]" in
      ${PEER_COMMANDS}) [[ "$words[CURRENT]" != -* ]] && opts+=(\${(f)"$(timeout 2 dms-net completion peers \${words[(r)--data]:+--data} \${words[\${words[(i)--data]}+1]} 2>/dev/null)"}) ;;
    esac
  fi
  compadd -a opts
}
compdef _dms_net dms-net
`
}

function fish (list: Awaited<ReturnType<typeof words>>): string {
  const on = (name: string): string => `-n '__fish_seen_subcommand_from ${name}'`
  return [
    '# dms-net completion for fish: dms-net completion fish | source',
    'complete -c dms-net -f',
    `complete -c dms-net -n '__fish_use_subcommand' -a '${list.map((c) => c.name).join(' ')}'`,
    ...list.flatMap((c) => [
      ...(c.subcommands.length > 0 ? [`complete -c dms-net ${on(c.name)} -a '${c.subcommands.join(' ')}'`] : []),
      ...c.flags.map((flag) => `complete -c dms-net ${on(c.name)} -l ${flag.slice(2)}`)
    ]),
    `complete -c dms-net ${on('events')} -l type -xa '${EVENT_TYPES}'`,
    `complete -c dms-net ${on(PEER_COMMANDS.replaceAll('|', ' '))} -a '(dms-net completion peers 2>/dev/null)'`,
    ''
  ].join('\n')
}

export const completionCommand: Command = {
  name: 'completion',
  args: 'bash|zsh|fish',
  summary: 'Print a shell completion script: source <(dms-net completion bash).',
  help: [
    'bash: source <(dms-net completion bash)   zsh: source <(dms-net completion zsh)',
    'fish: dms-net completion fish | source',
    'PEER arguments complete to aliases and the running node\'s peers; --type to event types.'
  ].join('\n'),
  positionals: { required: ['SHELL'] },
  run: async (parsed) => {
    const shell = parsed.positionals[0]
    // what the scripts call for peer arguments: one word a line
    if (shell === 'peers') { process.stdout.write((await peerWords(parsed.dataDir)).map((w) => `${w}\n`).join('')); return 0 }
    const scripts = { bash, zsh, fish }
    if (shell !== 'bash' && shell !== 'zsh' && shell !== 'fish') throw new UsageError(`completion is for bash, zsh or fish (got ${JSON.stringify(shell)})`)
    process.stdout.write(scripts[shell](await words()))
    return 0
  }
}
