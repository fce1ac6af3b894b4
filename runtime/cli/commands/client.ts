import type { Command } from '../command.js'
import { call, output } from '../client-call.js'
import { peerTable, statusText } from '../format.js'
import { countArg, multiaddrArg } from '../arguments.js'
import { peerArg } from '../peer-arg.js'
import type { NodeStatus, PeerStatus } from '../../events.js'
import { DmsError } from '../../errors.js'

export const statusCommand: Command = {
  name: 'status',
  summary: 'Show the running node: peer id, host state, addresses, and every peer actor.',
  run: async (parsed) => {
    const status = await call<NodeStatus>(parsed.dataDir, 'status')
    output(parsed, status, () => statusText(status))
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
    output(parsed, peers, () => peerTable(peers, parsed.values.full === true))
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

export const pingCommand: Command = {
  name: 'ping',
  args: 'PEER',
  summary: 'Measure round trips to a peer with libp2p ping.',
  help: '  --count N   pings to send (default 3)',
  options: { count: { type: 'string', short: 'c' } },
  positionals: { required: ['PEER'] },
  run: async (parsed) => {
    const peer = await peerArg(parsed.dataDir, parsed.positionals[0]!)
    const count = countArg('count', parsed.values.count, 1000) ?? 3
    const rtts: number[] = []
    for (let i = 0; i < count; i++) {
      const { rttMs } = await call<{ rttMs: number }>(parsed.dataDir, 'ping', { peer })
      rtts.push(rttMs)
      if (!parsed.json) output(parsed, null, () => `pong from ${peer}: ${rttMs} ms`)
      if (i + 1 < count) await new Promise((resolve) => setTimeout(resolve, 1000))
    }
    const average = Math.round(rtts.reduce((a, b) => a + b, 0) / rtts.length)
    output(parsed, { peer, rttMs: rtts }, () => `${rtts.length} pings, average ${average} ms`)
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
    const address = await multiaddrArg(parsed.positionals[0]!, false)
    const addresses = await call<string[]>(parsed.dataDir, 'listen', { address })
    output(parsed, addresses, () => addresses.join('\n'))
    return 0
  }
}
