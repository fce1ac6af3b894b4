import { dirname, join, resolve } from 'node:path'
import { stat } from 'node:fs/promises'
import { ControlClient } from '../../control/client.js'
import { checkMultiaddr } from '../../config.js'
import { readSwarmKeyFile, formatSwarmKey, writeSwarmKeyFile, fingerprint } from '../../swarm/key-file.js'
import type { SwarmKeyEncoding } from '../../swarm/key-file.js'
import type { SwarmStatus } from '../../swarm/swarm-service.js'
import { writeFileAtomic } from '../../atomic-file.js'
import { UsageError } from '../command.js'
import type { Command } from '../command.js'
import { shortId } from '../format.js'
import { fitText, terminalWidth } from '../terminal.js'
import { peerArg } from '../peer-arg.js'

const print = (text: string): void => { process.stdout.write(`${text}\n`) }

async function call (dataDir: string, method: string, params: Record<string, unknown> = {}): Promise<SwarmStatus> {
  const client = await ControlClient.connect(dataDir)
  try { return await client.call<SwarmStatus>(method, params) } finally { client.close() }
}

function statusText (s: SwarmStatus, width: number): string {
  // the swarm's addresses are the owner's: its id is on the owner line (or is this node's own), not repeated in 80 columns
  const ownerId = (id: string): boolean => s.role === 'owner' || id === s.owner
  const address = (a: string): string => a.replace(/\/p2p\/([1-9A-HJ-NP-Za-km-z]{40,})$/, (whole, id: string) => ownerId(id) ? '' : whole)
  return fitText([
    `role         ${s.role}`,
    `state        ${s.state}`,
    ...(s.role === 'none' ? [] : [`epoch        ${s.epoch}`, `key          ${s.fingerprint ?? '-'} (fingerprint)`]),
    ...(s.owner != null ? [`owner        ${s.owner}`] : []),
    ...(s.role === 'owner' ? [`authorised   ${s.authorised.map(shortId).join(', ') || '(nobody)'}`, `members      ${s.members.map(shortId).join(', ') || '(none yet)'}`] : []),
    ...(s.bootstrap.length > 0 ? [`bootstrap    ${s.bootstrap.map(address).join(' ')}`] : []),
    ...(s.privateHost != null ? [`private host ${s.privateHost}, connected to ${s.privatePeers.length} peer(s)`] : []),
    ...(s.relay != null ? [`reachable    relayed via the owner (the swarm's relay, for members behind NAT)`] : []),
    ...(s.lastError != null ? [`last error   ${s.lastError}`] : [])
  ].join('\n'), width)
}

const usage = `subcommands:
  create --authorise PEER...     own a new private network; PEER may ask for its key
  authorise PEER                 let one more peer ask for the key
  revoke PEER                    remove a peer and rotate the key (it is cut off)
  join --owner MULTIADDR         ask the owner for the key and join (leaves the public network)
  leave                          leave the private network, back to the public one
  rotate                         give every authorised member a new key
  dissolve                       owner: take the private network down and forget it
  status [--json]                role, state, key fingerprint, members
  key import FILE                store a swarm.key (base16, base64 or bin) in the data dir
  key export --out FILE [--encoding E]   write the stored key to FILE (mode 0600; base16 | base64 | bin)
  key export --force [--encoding E]      print it even to a terminal (it is the network's secret)

example: dms-net swarm create --authorise 12D3KooW... --data ./owner`

/** The options each subcommand takes, besides --json (and the global --data). */
const SUBCOMMAND_OPTIONS: Record<string, string[]> = {
  create: ['authorise'], authorise: [], revoke: [], join: ['owner'], leave: [], rotate: [], dissolve: [], status: [], key: ['encoding', 'out', 'force']
}

export const swarmCommand: Command = {
  name: 'swarm',
  args: 'SUBCOMMAND',
  summary: 'Private swarm: create, authorise, revoke, join, leave, rotate, dissolve, status, key.',
  help: usage,
  options: {
    authorise: { type: 'string', multiple: true },
    owner: { type: 'string' },
    json: { type: 'boolean' },
    encoding: { type: 'string' },
    out: { type: 'string' },
    force: { type: 'boolean' }
  },
  positionals: { required: ['SUBCOMMAND'], rest: true },
  run: async ({ positionals, values, dataDir }) => {
    const [sub, ...args] = positionals as [string, ...string[]]
    // an option another subcommand takes is a mistake here, not something to ignore
    const stray = Object.keys(swarmCommand.options ?? {}).filter((name) => (values as Record<string, unknown>)[name] !== undefined && name !== 'json' && !(SUBCOMMAND_OPTIONS[sub] ?? []).includes(name))
    if (stray.length > 0 && Object.hasOwn(SUBCOMMAND_OPTIONS, sub)) throw new UsageError(`swarm ${sub} takes no --${stray[0]!}`)
    const need = (count: number, what: string): void => { if (args.length !== count) throw new UsageError(`swarm ${sub} needs ${what}`) }
    const show = (s: SwarmStatus): void => { print(values.json === true ? JSON.stringify(s, null, 2) : statusText(s, terminalWidth())) }
    switch (sub) {
      case 'create': {
        need(0, 'only --authorise PEER...')
        const authorised = await Promise.all(((values.authorise as string[] | undefined) ?? []).map(async (peer) => await peerArg(dataDir, peer)))
        show(await call(dataDir, 'swarm.create', { authorised }))
        return 0
      }
      case 'authorise': need(1, 'PEER'); show(await call(dataDir, 'swarm.authorise', { peer: await peerArg(dataDir, args[0]!) })); return 0
      case 'revoke': need(1, 'PEER'); show(await call(dataDir, 'swarm.revoke', { peer: await peerArg(dataDir, args[0]!) })); return 0
      case 'join': {
        const owner = values.owner
        if (typeof owner !== 'string') throw new UsageError('swarm join needs --owner MULTIADDR (the owner\'s public address with /p2p/)')
        const problem = checkMultiaddr(owner, true)
        if (problem != null) throw new UsageError(problem)
        show(await call(dataDir, 'swarm.join', { owner }))
        return 0
      }
      case 'leave': need(0, 'no arguments'); show(await call(dataDir, 'swarm.leave')); return 0
      case 'rotate': need(0, 'no arguments'); show(await call(dataDir, 'swarm.rotate')); return 0
      case 'dissolve': need(0, 'no arguments'); show(await call(dataDir, 'swarm.dissolve')); return 0
      case 'status': need(0, 'no arguments'); show(await call(dataDir, 'swarm.status')); return 0
      case 'key': {
        const keyPath = join(dataDir, 'swarm', 'swarm.key')
        if (args[0] === 'import' && args.length === 2) {
          const key = await readSwarmKeyFile(args[1]!)
          await writeSwarmKeyFile(keyPath, key)
          print(`imported key ${fingerprint(key)} into ${keyPath} (a running node uses it after its next restart)`)
          return 0
        }
        if (args[0] === 'export' && args.length === 1) {
          const encoding = (values.encoding ?? 'base16') as SwarmKeyEncoding
          if (!['base16', 'base64', 'bin'].includes(encoding)) throw new UsageError('--encoding must be base16, base64 or bin')
          const key = await readSwarmKeyFile(keyPath)
          if (typeof values.out === 'string') {
            // a mistyped path must not put the network's secret in a directory made for it on the way
            const dir = dirname(resolve(values.out))
            if (!(await stat(dir).then((s) => s.isDirectory(), () => false))) throw new UsageError(`--out ${values.out}: there is no directory ${dir}`)
            await writeFileAtomic(values.out, formatSwarmKey(key, encoding), { mode: 0o600, createDir: false })
            print(`wrote key ${fingerprint(key)} to ${values.out} (mode 0600)`)
            return 0
          }
          // a key on a terminal ends up in scrollback, screen shares and recordings
          if (process.stdout.isTTY === true && values.force !== true) {
            throw new UsageError('swarm key export will not print the key to a terminal: use --out FILE, a pipe, or --force')
          }
          process.stdout.write(formatSwarmKey(key, encoding))
          if (encoding !== 'bin' && process.stdout.isTTY === true) process.stdout.write('\n')
          return 0
        }
        throw new UsageError('use: swarm key import FILE | swarm key export --out FILE [--encoding base16|base64|bin]')
      }
      default:
        throw new UsageError(`unknown swarm subcommand ${JSON.stringify(sub)}`)
    }
  }
}
