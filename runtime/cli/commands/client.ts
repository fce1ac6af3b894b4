import type { Command } from '../command.js'
import { call, output } from '../client-call.js'
import { peerTable } from '../format.js'
import { overviewText } from '../overview.js'
import { aliasOf, readAliases } from '../aliases.js'
import { terminalWidth } from '../terminal.js'
import { ControlClient } from '../../control/client.js'
import type { SwarmStatus } from '../../swarm/swarm-status.js'
import type { VpnStatus } from '../../vpn/vpn-types.js'
import { multiaddrArg } from '../arguments.js'
import { peerArg } from '../peer-arg.js'
import type { NodeStatus, PeerStatus } from '../../events.js'
import { DmsError } from '../../errors.js'

export const statusCommand: Command = {
  name: 'status',
  summary: 'One overview: hosts, swarm role, VPN IP, and every peer with its path.',
  help: '--json prints the node status with its swarm and vpn status (docs/cli.md)',
  run: async (parsed) => {
    const client = await ControlClient.connect(parsed.dataDir)
    try {
      const node = await client.call<NodeStatus>('status')
      // a node without a feature (an embedder's) answers unknown method: the overview leaves it out
      const swarm = await client.call<SwarmStatus>('swarm.status').catch(() => undefined)
      const vpn = await client.call<VpnStatus>('vpn.status').catch(() => undefined)
      const aliases = aliasOf(await readAliases(parsed.dataDir).catch(() => ({})))
      output(parsed, { ...node, ...(swarm != null ? { swarm } : {}), ...(vpn != null ? { vpn } : {}) }, () => overviewText({ node, swarm, vpn, aliases }, terminalWidth()))
    } finally {
      client.close()
    }
    return 0
  }
}

export const peersCommand: Command = {
  name: 'peers',
  summary: 'List the peer actors of the running node and their connectedness.',
  help: '  --full   whole peer ids (commands take any unique prefix, and the short form shown here)',
  options: { full: { type: 'boolean' } },
  run: async (parsed) => {
    const peers = await call<PeerStatus[]>(parsed.dataDir, 'peers')
    const aliases = aliasOf(await readAliases(parsed.dataDir).catch(() => ({})))
    output(parsed, peers, () => peerTable(peers, parsed.values.full === true, aliases, terminalWidth()))
    return 0
  }
}

export const dialCommand: Command = {
  name: 'dial',
  args: 'TARGET',
  summary: 'Dial a peer by multiaddr (with /p2p/<id>) or by peer id.',
  help: 'example: dms-net dial /ip4/127.0.0.1/tcp/4001/p2p/12D3KooW...',
  positionals: { required: ['TARGET'] },
  run: async (parsed) => {
    const target = parsed.positionals[0]!
    if (target.startsWith('/')) await multiaddrArg(target, false)
    const resolved = target.startsWith('/') ? target : await peerArg(parsed.dataDir, target, 'TARGET')
    const result = await call<{ peerId: string, remoteAddr: string, alreadyConnected?: boolean }>(parsed.dataDir, 'dial', { target: resolved })
    output(parsed, result, () => `${result.alreadyConnected === true ? 'already connected' : 'connected'} to ${result.peerId} via ${result.remoteAddr}`)
    return 0
  }
}

export const disconnectCommand: Command = {
  name: 'disconnect',
  args: 'PEER',
  summary: 'Close every connection to a peer (a bootstrap peer is redialled).',
  positionals: { required: ['PEER'] },
  run: async (parsed) => {
    const peer = await peerArg(parsed.dataDir, parsed.positionals[0]!)
    const result = await call<{ closed: number }>(parsed.dataDir, 'disconnect', { peer })
    if (result.closed === 0) throw new DmsError('NOT_CONNECTED', `not connected to ${peer}: nothing to close`)
    output(parsed, { peer, ...result }, () => `closed ${result.closed} connection(s) to ${peer}`)
    return 0
  }
}

export const listenCommand: Command = {
  name: 'listen',
  args: 'MULTIADDR',
  summary: 'Make the running node listen on another address.',
  help: 'example: dms-net listen /ip4/0.0.0.0/tcp/4002',
  positionals: { required: ['MULTIADDR'] },
  run: async (parsed) => {
    const { checkListen } = await import('../../dial-options.js')
    const address = checkListen(parsed.positionals[0]) // the node's own check, before it is asked (BAD_ADDRESS: exit 2)
    const addresses = await call<string[]>(parsed.dataDir, 'listen', { address })
    output(parsed, addresses, () => addresses.join('\n'))
    return 0
  }
}
