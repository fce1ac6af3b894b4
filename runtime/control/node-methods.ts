import type { DmsNode } from '../node.js'
import type { NodeEvent } from '../events.js'
import { textParam } from './params.js'
import type { ControlMethod, ControlStream } from './server.js'
import { validateBidRequest } from '../wire/bid-request.js'

/** The control methods every running node answers. Features add theirs with the same shape. */
export function nodeControlMethods (node: DmsNode): Record<string, ControlMethod> {
  return {
    status: () => ({ ...node.status(), messenger: node.messengerStats() }),
    peers: () => node.status().peers,
    dial: async (params) => await node.dial(textParam(params, 'target')),
    listen: async (params) => await node.listen(textParam(params, 'address')),
    send: async (params) => { await node.send(textParam(params, 'peer'), textParam(params, 'type'), params.body); return { sent: true } },
    request: async (params) => await node.request(textParam(params, 'peer'), textParam(params, 'type'), params.body, {
      ...(typeof params.timeoutMs === 'number' ? { timeoutMs: params.timeoutMs } : {})
    }),
    publishJob: async (params) => {
      const bid = params.bid as Record<string, unknown>
      validateBidRequest({ ...bid, requester: node.peerId })
      return await node.publishJob(bid as never)
    }
  }
}

/** Streaming control methods: `events` streams every public event. */
export function nodeControlStreams (node: DmsNode): Record<string, ControlStream> {
  return {
    events: (_params, push) => node.on('*', (event: NodeEvent) => { push(event) })
  }
}
