import type { DmsNode } from '../node.js'
import type { NodeEvent } from '../events.js'
import { textParam } from './params.js'
import type { ControlMethod, ControlStream } from './server.js'
import { validateBidRequest } from '../../actors/wire/bid-request.js'
import { JobLog } from './job-log.js'
import { MessageInbox } from './message-inbox.js'
import { DmsError } from '../errors.js'
import { measureClockSkew } from '../clock-skew.js'

const badRequest = (message: string): DmsError => new DmsError('BAD_REQUEST', message)

/** A list of non-empty strings, or undefined when absent. */
function textListParam (params: Record<string, unknown>, name: string): string[] | undefined {
  const value = params[name]
  if (value === undefined) return undefined
  if (!Array.isArray(value) || value.length > 64 || value.some((v) => typeof v !== 'string' || v === '' || v.length > 128)) {
    throw badRequest(`${name} must be a list of at most 64 names`)
  }
  return value as string[]
}

/** The control methods and streams every running node answers. Features add methods of the same shape. */
export function nodeControl (node: DmsNode): { methods: Record<string, ControlMethod>, streams: Record<string, ControlStream> } {
  const jobs = new JobLog()
  node.on('job.received', (event) => { jobs.add({ from: event.from, bid: event.bid }) })
  const inbox = new MessageInbox((type, handler) => node.handle(type, handler))
  const methods: Record<string, ControlMethod> = {
    status: () => ({ ...node.status(), messenger: node.messengerStats() }),
    peers: () => node.status().peers,
    dial: async (params) => await node.dial(textParam(params, 'target')),
    disconnect: async (params) => await node.disconnect(textParam(params, 'peer')),
    ping: async (params) => await node.pingRoute(textParam(params, 'peer')),
    listen: async (params) => await node.listen(textParam(params, 'address')),
    send: async (params) => { await node.send(textParam(params, 'peer'), textParam(params, 'type'), params.body); return { sent: true } },
    request: async (params) => await node.request(textParam(params, 'peer'), textParam(params, 'type'), params.body, {
      ...(typeof params.timeoutMs === 'number' ? { timeoutMs: params.timeoutMs } : {})
    }),
    publishJob: async (params) => {
      const bid = params.bid as Record<string, unknown>
      validateBidRequest({ ...bid, requester: node.peerId })
      return await node.publishJob(bid as never)
    },
    jobs: (params) => jobs.list(typeof params.limit === 'number' ? params.limit : undefined),
    /** What netcheck needs from the node: discovery and reachability, and the clock of up to 8 connected peers. */
    netcheck: async () => {
      const status = node.status()
      const connected = [...new Set(status.peers.filter((p) => p.connections > 0).map((p) => p.peerId))].slice(0, 8)
      const clock = await measureClockSkew(async (peer, type, body, options) => await node.request(peer, type, body, options), connected)
      return { peerId: status.peerId, pid: process.pid, host: status.host, ...(status.privateHost != null ? { privateHost: status.privateHost } : {}), discovery: status.discovery, clock }
    }
  }
  const streams: Record<string, ControlStream> = {
    /** Every public event, or those of `types`. */
    events: (params, push) => {
      const types = textListParam(params, 'types')
      const wanted = types == null ? undefined : new Set(types)
      return node.on('*', (event: NodeEvent) => { if (wanted == null || wanted.has(event.type)) push(event) })
    },
    /** Typed messages of `types`; with `reply`, requests of those types are answered with it. */
    receive: (params, push) => {
      const types = textListParam(params, 'types')
      if (types == null || types.length === 0) throw badRequest('receive needs at least one message type')
      return inbox.subscribe(types, push, 'reply' in params ? { value: params.reply } : undefined)
    }
  }
  return { methods, streams }
}
