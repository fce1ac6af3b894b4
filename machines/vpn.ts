import { setup, assign, sendTo, fromPromise, fromCallback } from 'xstate'
import type { RoutingTable } from './vpn-table.js'
import type { NetworkKind } from './contracts.js'
import { addMembers, capacity, closeTable, createTable, parseSubnet, removeMember, setAddresses } from './vpn-table.js'
import { removeName, setName } from './vpn-names.js'
import { eventOf } from './event-narrowing.js'
import { publishPort, unpublishPort } from './vpn-ports.js'
import type { PublishedPort } from './vpn-ports.js'
import { addRule, removeRule, setGroups, setPolicy } from './vpn-policy.js'
import type { PolicyRule } from './vpn-policy.js'

/** Why a VPN stopped on this node. */
export type VpnStopReason = 'local' | 'removed' | 'closed'

/** Commands to a node's VPN, and tables from its leader (already verified by the service). */
export type VpnEvent =
  /** Lead a new VPN over `hosts` (this node is always a member). */
  | { type: 'vpn.start', vpnId: string, subnet: string, hosts: string[], addresses: Record<string, string[]>, domain?: string }
  /** Come back after a restart with the persisted table. */
  | { type: 'vpn.restore', table: RoutingTable }
  /** A table signed by the leader: an invitation when stopped, an update when running. */
  | { type: 'vpn.table', table: RoutingTable }
  | { type: 'vpn.addPeer', peers: string[], addresses: Record<string, string[]> }
  | { type: 'vpn.removePeer', peer: string }
  /** Leader: a DNS record `name` → a member's `ip` (added or moved), or its removal. */
  | { type: 'vpn.dns.set', name: string, ip: string }
  | { type: 'vpn.dns.remove', name: string }
  /** Leader: publish a port on a member's host into a member's service, or withdraw one. */
  | { type: 'vpn.port.publish', entry: PublishedPort }
  | { type: 'vpn.port.unpublish', at: string, protocol: 'tcp' | 'udp', port: number }
  /** Leader: rules between members: the policy on or off, a member's groups, a rule added or removed. */
  | { type: 'vpn.policy.set', on: boolean }
  | { type: 'vpn.group.set', peer: string, groups: string[] }
  | { type: 'vpn.rule.add', rule: PolicyRule }
  | { type: 'vpn.rule.remove', index: number }
  /** Leader: members' addresses changed (a member took a slot on this leader's relay). */
  | { type: 'vpn.addresses.set', addresses: Record<string, string[]> }
  | { type: 'vpn.stop' }

/** The leader's edits of names and published ports (the service sends them; the machine checks them). */
export type VpnEdit = Extract<VpnEvent, { type: `vpn.${'dns' | 'port' | 'policy' | 'group' | 'rule' | 'addresses'}.${string}` }>

export interface VpnContext {
  /** This node's peer id. */
  self: string
  table?: RoutingTable
  /** The host the VPN runs on (the private one inside a private swarm), once its device is up. */
  network?: NetworkKind
  stopReason?: VpnStopReason
  lastError?: string
}

/** What the device actor gets: the table to bring up and who we are. It answers with the host the VPN runs on. */
export interface VpnDeviceInput { table: RoutingTable, self: string }
/** What the data plane gets: the table, who we are, and the host to pump packets over. */
export interface VpnDataPlaneInput extends VpnDeviceInput { network: NetworkKind }
export interface VpnTearDownInput { table?: RoutingTable, self: string, reason: VpnStopReason }
/** Sent to the data plane whenever the table changes while it runs. */
export interface VpnRoutesEvent { type: 'vpn.routes', table: RoutingTable }
/** Sent to the recorder on every state and every table version: it signs, persists, publishes and announces. */
export interface VpnRecordEvent { type: 'vpn.record', state: VpnState, table?: RoutingTable }
export type VpnState = 'stopped' | 'starting' | 'running' | 'stopping' | 'failed'
/** What the service asks of the machine (never its state names): down (no VPN), changing, up, failed. */
export type VpnTag = 'down' | 'changing' | 'up' | 'failed'

const isLeader = (context: VpnContext): boolean => context.table?.leader === context.self
const isNewer = (context: VpnContext, table: RoutingTable): boolean =>
  context.table == null || (table.vpnId === context.table.vpnId && table.leader === context.table.leader && table.version > context.table.version)
const includesSelf = (context: VpnContext, table: RoutingTable): boolean => !table.closed && table.members[context.self] != null

/** The leader's table after a change of names or published ports, or undefined when the change is not valid (the service says why before sending). */
function edited (context: VpnContext, event: VpnEvent): RoutingTable | undefined {
  if (!isLeader(context) || context.table == null) return undefined
  try {
    if (event.type === 'vpn.dns.set') return setName(context.table, event.name, event.ip)
    if (event.type === 'vpn.dns.remove') return removeName(context.table, event.name)
    if (event.type === 'vpn.port.publish') return publishPort(context.table, event.entry)
    if (event.type === 'vpn.port.unpublish') return unpublishPort(context.table, event)
    if (event.type === 'vpn.policy.set') return setPolicy(context.table, event.on)
    if (event.type === 'vpn.group.set') return setGroups(context.table, event.peer, event.groups)
    if (event.type === 'vpn.rule.add') return addRule(context.table, event.rule)
    if (event.type === 'vpn.rule.remove') return removeRule(context.table, event.index)
    if (event.type === 'vpn.addresses.set') return setAddresses(context.table, event.addresses)
  } catch {
    return undefined // refused: the table stays as it was
  }
  return undefined
}

/**
 * VPN routing on one node: stopped → starting → running → stopping → stopped,
 * or failed. The routing table is the context. The leader changes it (add,
 * remove, close); a member takes every newer version the leader signs, and
 * stops when a version closes the VPN or leaves it out. The device work
 * (`bringUp`, `tearDown`) and the packet path (`dataPlane`) are actors the
 * service provides; the placeholders here refuse to run.
 */
export const vpnMachine = setup({
  types: { context: {} as VpnContext, events: {} as VpnEvent, input: {} as { self: string }, tags: {} as VpnTag },
  actors: {
    bringUp: fromPromise<NetworkKind, VpnDeviceInput>(async () => { throw new Error('bringUp is provided by the VPN service') }),
    tearDown: fromPromise<void, VpnTearDownInput>(async () => { throw new Error('tearDown is provided by the VPN service') }),
    dataPlane: fromCallback<VpnRoutesEvent, VpnDataPlaneInput>(() => { throw new Error('dataPlane is provided by the VPN service') }),
    recorder: fromCallback<VpnRecordEvent, { self: string }>(() => { throw new Error('recorder is provided by the VPN service') })
  },
  guards: {
    isLeader: ({ context }) => isLeader(context),
    canAdd: ({ context, event }) => event.type === 'vpn.addPeer' && isLeader(context) &&
      Object.keys(context.table!.members).length + new Set(event.peers.filter((p) => context.table!.members[p] == null)).size <= capacity(parseSubnet(context.table!.subnet)),
    invitesUs: ({ context, event }) => event.type === 'vpn.table' && includesSelf({ ...context, table: undefined }, event.table),
    newerWithUs: ({ context, event }) => event.type === 'vpn.table' && isNewer(context, event.table) && includesSelf(context, event.table),
    newerWithoutUs: ({ context, event }) => event.type === 'vpn.table' && isNewer(context, event.table) && !includesSelf(context, event.table),
    canEdit: ({ context, event }) => edited(context, event) != null,
    canRemove: ({ context, event }) => event.type === 'vpn.removePeer' && isLeader(context) && event.peer !== context.self && context.table?.members[event.peer] != null
  },
  actions: {
    takeEdit: assign({ table: ({ context, event }) => edited(context, event) ?? context.table }),
    takeTable: assign({ table: ({ event }) => eventOf(event, ['vpn.restore', 'vpn.table']).table, lastError: undefined, stopReason: undefined }),
    pushRoutes: sendTo('dataPlane', ({ context }): VpnRoutesEvent => ({ type: 'vpn.routes', table: context.table! })),
    record: sendTo('recorder', ({ context }, params: { state: VpnState }): VpnRecordEvent => ({
      type: 'vpn.record', state: params.state, ...(context.table != null ? { table: context.table } : {})
    }))
  }
}).createMachine({
  id: 'vpn',
  context: ({ input }) => ({ self: input.self }),
  invoke: { id: 'recorder', src: 'recorder', input: ({ context }) => ({ self: context.self }) },
  initial: 'stopped',
  states: {
    stopped: {
      tags: ['down'],
      entry: { type: 'record', params: { state: 'stopped' } },
      on: {
        'vpn.start': {
          target: 'starting',
          actions: assign({
            table: ({ context, event }) => createTable({ vpnId: event.vpnId, leader: context.self, subnet: event.subnet, hosts: event.hosts, addresses: event.addresses, ...(event.domain != null ? { domain: event.domain } : {}) }),
            lastError: undefined,
            stopReason: undefined
          })
        },
        'vpn.restore': { target: 'starting', actions: 'takeTable' },
        'vpn.table': { guard: 'invitesUs', target: 'starting', actions: 'takeTable' }
      }
    },
    starting: {
      tags: ['changing'],
      entry: { type: 'record', params: { state: 'starting' } },
      invoke: {
        id: 'bringUp',
        src: 'bringUp',
        input: ({ context }) => ({ table: context.table!, self: context.self }),
        onDone: { target: 'running', actions: assign({ network: ({ event }) => event.output }) },
        onError: { target: 'failed', actions: assign({ lastError: ({ event }) => (event.error as Error).message }) }
      },
      on: {
        // a newer table while the device comes up is kept; the data plane starts with it
        'vpn.table': [
          { guard: 'newerWithUs', actions: ['takeTable', { type: 'record', params: { state: 'starting' } }] },
          { guard: 'newerWithoutUs', target: 'stopping', actions: assign({ table: ({ event }) => event.table, stopReason: ({ event }) => event.table.closed ? 'closed' as const : 'removed' as const }) }
        ],
        'vpn.stop': { target: 'stopping', actions: assign({ stopReason: 'local' as const }) }
      }
    },
    running: {
      tags: ['up'],
      entry: { type: 'record', params: { state: 'running' } },
      invoke: {
        id: 'dataPlane',
        src: 'dataPlane',
        input: ({ context }) => ({ table: context.table!, self: context.self, network: context.network ?? 'public' }),
        onError: { target: 'failed', actions: assign({ lastError: ({ event }) => (event.error as Error).message }) }
      },
      on: {
        'vpn.addPeer': {
          guard: 'canAdd',
          actions: [assign({ table: ({ context, event }) => addMembers(context.table!, event.peers, event.addresses) }), 'pushRoutes', { type: 'record', params: { state: 'running' } }]
        },
        'vpn.removePeer': { guard: 'canRemove', actions: [assign({ table: ({ context, event }) => removeMember(context.table!, event.peer) }), 'pushRoutes', { type: 'record', params: { state: 'running' } }] },
        'vpn.dns.set': { guard: 'canEdit', actions: ['takeEdit', 'pushRoutes', { type: 'record', params: { state: 'running' } }] },
        'vpn.dns.remove': { guard: 'canEdit', actions: ['takeEdit', 'pushRoutes', { type: 'record', params: { state: 'running' } }] },
        'vpn.port.publish': { guard: 'canEdit', actions: ['takeEdit', 'pushRoutes', { type: 'record', params: { state: 'running' } }] },
        'vpn.port.unpublish': { guard: 'canEdit', actions: ['takeEdit', 'pushRoutes', { type: 'record', params: { state: 'running' } }] },
        'vpn.policy.set': { guard: 'canEdit', actions: ['takeEdit', 'pushRoutes', { type: 'record', params: { state: 'running' } }] },
        'vpn.group.set': { guard: 'canEdit', actions: ['takeEdit', 'pushRoutes', { type: 'record', params: { state: 'running' } }] },
        'vpn.rule.add': { guard: 'canEdit', actions: ['takeEdit', 'pushRoutes', { type: 'record', params: { state: 'running' } }] },
        'vpn.rule.remove': { guard: 'canEdit', actions: ['takeEdit', 'pushRoutes', { type: 'record', params: { state: 'running' } }] },
        'vpn.addresses.set': { guard: 'canEdit', actions: ['takeEdit', 'pushRoutes', { type: 'record', params: { state: 'running' } }] },
        'vpn.table': [
          { guard: 'newerWithUs', actions: ['takeTable', 'pushRoutes', { type: 'record', params: { state: 'running' } }] },
          { guard: 'newerWithoutUs', target: 'stopping', actions: assign({ table: ({ event }) => event.table, stopReason: ({ event }) => event.table.closed ? 'closed' as const : 'removed' as const }) }
        ],
        'vpn.stop': [
          // the leader's stop closes the VPN for everyone: the closing version is what it publishes
          { guard: 'isLeader', target: 'stopping', actions: assign({ table: ({ context }) => closeTable(context.table!), stopReason: 'local' as const }) },
          { target: 'stopping', actions: assign({ stopReason: 'local' as const }) }
        ]
      }
    },
    stopping: {
      tags: ['changing'],
      entry: { type: 'record', params: { state: 'stopping' } },
      invoke: {
        id: 'tearDown',
        src: 'tearDown',
        input: ({ context }) => ({ ...(context.table != null ? { table: context.table } : {}), self: context.self, reason: context.stopReason ?? 'local' }),
        onDone: { target: 'stopped', actions: assign({ table: undefined, network: undefined }) },
        onError: { target: 'stopped', actions: assign({ table: undefined, network: undefined, lastError: ({ event }) => (event.error as Error).message }) }
      }
    },
    failed: {
      tags: ['failed'],
      entry: { type: 'record', params: { state: 'failed' } },
      on: {
        'vpn.stop': [
          { guard: 'isLeader', target: 'stopping', actions: assign({ table: ({ context }) => closeTable(context.table!), stopReason: 'local' as const }) },
          { target: 'stopping', actions: assign({ stopReason: 'local' as const }) }
        ],
        'vpn.restore': { target: 'starting', actions: 'takeTable' }
      }
    }
  }
})
