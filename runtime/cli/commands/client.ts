import { ControlClient } from '../../control/client.js'
import { checkMultiaddr } from '../../config.js'
import { UsageError } from '../command.js'
import type { Command, Parsed } from '../command.js'
import { peerTable, statusText } from '../format.js'
import type { NodeStatus, PeerStatus } from '../../events.js'

/** Run one call against the node that owns `dataDir`. */
async function call<T> (dataDir: string, method: string, params: Record<string, unknown> = {}): Promise<T> {
  const client = await ControlClient.connect(dataDir)
  try {
    return await client.call<T>(method, params)
  } finally {
    client.close()
  }
}

const print = (text: string): void => { process.stdout.write(`${text}\n`) }

function parseJson (what: string, text: string): unknown {
  try {
    return JSON.parse(text)
  } catch (err) {
    throw new UsageError(`${what} is not valid JSON: ${(err as Error).message}`)
  }
}

const jsonFlag = { json: { type: 'boolean' as const } }

export const statusCommand: Command = {
  name: 'status',
  summary: 'Show the running node: peer id, host state, addresses, and every peer actor.',
  help: '  --json   print the full status as JSON',
  options: jsonFlag,
  run: async ({ values, dataDir }: Parsed) => {
    const status = await call<NodeStatus>(dataDir, 'status')
    print(values.json === true ? JSON.stringify(status, null, 2) : statusText(status))
    return 0
  }
}

export const peersCommand: Command = {
  name: 'peers',
  summary: 'List the peer actors of the running node and their connectedness.',
  help: '  --json   print as JSON',
  options: jsonFlag,
  run: async ({ values, dataDir }) => {
    const peers = await call<PeerStatus[]>(dataDir, 'peers')
    print(values.json === true ? JSON.stringify(peers, null, 2) : peerTable(peers))
    return 0
  }
}

export const dialCommand: Command = {
  name: 'dial',
  args: 'TARGET',
  summary: 'Dial a peer by multiaddr (with /p2p/<id>) or by peer id.',
  positionals: { required: ['TARGET'] },
  run: async ({ positionals, dataDir }) => {
    const target = positionals[0]!
    if (target.startsWith('/')) {
      const problem = checkMultiaddr(target, false)
      if (problem != null) throw new UsageError(problem)
    }
    const result = await call<{ peerId: string, remoteAddr: string }>(dataDir, 'dial', { target })
    print(`connected to ${result.peerId} via ${result.remoteAddr}`)
    return 0
  }
}

export const listenCommand: Command = {
  name: 'listen',
  args: 'MULTIADDR',
  summary: 'Make the running node listen on another address.',
  positionals: { required: ['MULTIADDR'] },
  run: async ({ positionals, dataDir }) => {
    const problem = checkMultiaddr(positionals[0], false)
    if (problem != null) throw new UsageError(problem)
    const addresses = await call<string[]>(dataDir, 'listen', { address: positionals[0] })
    for (const address of addresses) print(address)
    return 0
  }
}

export const sendCommand: Command = {
  name: 'send',
  args: 'PEER TYPE JSON',
  summary: 'Send a typed message (body given as JSON) to a peer.',
  help: [
    '  --request       wait for the reply and print it',
    '  --timeout MS    reply timeout with --request (default 10000)',
    '',
    'example: dms-net send 12D3KooW... job.status \'{"jobId":"j1"}\' --request'
  ].join('\n'),
  options: { request: { type: 'boolean' }, timeout: { type: 'string' } },
  positionals: { required: ['PEER', 'TYPE', 'JSON'] },
  run: async ({ positionals, values, dataDir }) => {
    const [peer, type, json] = positionals as [string, string, string]
    const body = parseJson('the message body', json)
    if (values.request === true) {
      const timeoutMs = values.timeout === undefined ? undefined : Number(values.timeout)
      if (timeoutMs !== undefined && (!Number.isInteger(timeoutMs) || timeoutMs <= 0)) throw new UsageError('--timeout needs a positive number of ms')
      print(JSON.stringify(await call(dataDir, 'request', { peer, type, body, ...(timeoutMs != null ? { timeoutMs } : {}) })))
    } else {
      await call(dataDir, 'send', { peer, type, body })
      print(`sent ${type} to ${peer}`)
    }
    return 0
  }
}

export const publishJobCommand: Command = {
  name: 'publish-job',
  args: 'JSON',
  summary: 'Publish a job bid request on gossipsub.',
  help: 'example: dms-net publish-job \'{"jobId":"j1","resources":{"cpuCores":2,"memoryMb":512},"price":{"max":5,"currency":"DMS"},"deadline":1900000000000}\'',
  positionals: { required: ['JSON'] },
  run: async ({ positionals, dataDir }) => {
    const bid = parseJson('the bid request', positionals[0]!)
    const result = await call<{ recipients: number }>(dataDir, 'publishJob', { bid })
    print(`published to ${result.recipients} peer(s)`)
    return 0
  }
}
