import type { RoutingTable } from './vpn-table.js'
import { isPort } from './net-values.js'

/**
 * Who may open connections to whom inside the subnet. With a policy in the
 * table, traffic between members is denied unless a rule allows it; replies to
 * an allowed connection pass (each receiver tracks connections). `from` and
 * `to` name a member (peer id), a group (`group:<name>`) or everyone (`*`).
 */
export interface PolicyRule {
  from: string
  to: string
  protocol: 'tcp' | 'udp' | 'icmp' | 'any'
  /** For tcp and udp: the destination port range; absent means every port. */
  ports?: [number, number]
}

export interface VpnPolicy {
  /** Group name → member peer ids, given by the leader. */
  groups: Record<string, string[]>
  rules: PolicyRule[]
}

export const MAX_RULES = 256
const GROUP = /^[a-z0-9][a-z0-9_-]{0,31}$/


/** Why a rule cannot be in this table, or undefined. */
export function ruleProblem (table: Pick<RoutingTable, 'members'>, policy: VpnPolicy, rule: unknown): string | undefined {
  if (typeof rule !== 'object' || rule == null) return 'a rule is { from, to, protocol, ports? }'
  const r = rule as Partial<PolicyRule>
  for (const side of ['from', 'to'] as const) {
    const who = r[side]
    if (typeof who !== 'string') return `${side} must name a member, group:<name> or *`
    if (who === '*') continue
    if (who.startsWith('group:')) {
      if (!Object.hasOwn(policy.groups, who.slice(6))) return `${side}: no group ${JSON.stringify(who.slice(6, 40))} (give members groups first)`
    } else if (!Object.hasOwn(table.members, who)) return `${side}: ${JSON.stringify(who.slice(0, 60))} is not a member`
  }
  if (!['tcp', 'udp', 'icmp', 'any'].includes(r.protocol as string)) return `protocol must be tcp, udp, icmp or any (got ${JSON.stringify(r.protocol)})`
  if (r.ports !== undefined) {
    if (r.protocol !== 'tcp' && r.protocol !== 'udp') return 'ports go with tcp or udp only'
    if (!Array.isArray(r.ports) || r.ports.length !== 2 || !isPort(r.ports[0]) || !isPort(r.ports[1]) || r.ports[0] > r.ports[1]) return 'ports must be [low, high], from 1 to 65535'
  }
  return undefined
}

const emptyPolicy = (): VpnPolicy => ({ groups: {}, rules: [] })

/** Turn the policy on (deny unless allowed) or off (everything between members passes). */
export function setPolicy (table: RoutingTable, on: boolean): RoutingTable {
  if (on === (table.policy != null)) return table
  if (!on) { const { policy: _, ...rest } = table; return { ...rest, version: table.version + 1 } }
  return { ...table, version: table.version + 1, policy: emptyPolicy() }
}

/** Give a member its groups (replacing the ones it had); the version grows by one. */
export function setGroups (table: RoutingTable, peer: string, groups: string[]): RoutingTable {
  if (!Object.hasOwn(table.members, peer)) throw new Error(`${String(peer).slice(0, 60)} is not a member`)
  const bad = groups.find((g) => !GROUP.test(g))
  if (bad != null) throw new Error(`bad group ${JSON.stringify(bad.slice(0, 40))}: 1-32 lower-case letters, digits, _ and -`)
  const policy = table.policy ?? emptyPolicy()
  const next: Record<string, string[]> = {}
  for (const [name, members] of Object.entries(policy.groups)) {
    const kept = members.filter((m) => m !== peer)
    if (kept.length > 0 || groups.includes(name)) next[name] = kept
  }
  for (const name of groups) next[name] = [...(next[name] ?? []), peer].sort()
  // a group a rule names stays, even when it has no member now
  for (const rule of policy.rules) for (const side of [rule.from, rule.to]) if (side.startsWith('group:')) next[side.slice(6)] ??= []
  return { ...table, version: table.version + 1, policy: { ...policy, groups: next } }
}

/** Add a rule (the policy must be on); the version grows by one. */
export function addRule (table: RoutingTable, rule: PolicyRule): RoutingTable {
  if (table.policy == null) throw new Error('the policy is off: turn it on first (dms-net vpn policy on)')
  const problem = ruleProblem(table, table.policy, rule)
  if (problem != null) throw new Error(problem)
  if (table.policy.rules.length >= MAX_RULES) throw new Error(`at most ${MAX_RULES} rules`)
  const clean: PolicyRule = { from: rule.from, to: rule.to, protocol: rule.protocol, ...(rule.ports != null ? { ports: [rule.ports[0], rule.ports[1]] } : {}) }
  return { ...table, version: table.version + 1, policy: { ...table.policy, rules: [...table.policy.rules, clean] } }
}

/** Remove the rule at `index` (as `rules` lists them, from 0). */
export function removeRule (table: RoutingTable, index: number): RoutingTable {
  if (table.policy?.rules[index] == null) throw new Error(`no rule ${index}`)
  return { ...table, version: table.version + 1, policy: { ...table.policy, rules: table.policy.rules.filter((_, i) => i !== index) } }
}

/** The members a rule side names. */
export function membersOf (table: Pick<RoutingTable, 'members' | 'policy'>, who: string): string[] {
  if (who === '*') return Object.keys(table.members)
  const groups = table.policy?.groups ?? {}
  if (who.startsWith('group:')) return (Object.hasOwn(groups, who.slice(6)) ? groups[who.slice(6)]! : []).filter((peer) => Object.hasOwn(table.members, peer))
  return Object.hasOwn(table.members, who) ? [who] : []
}

/** A removed member leaves its groups; rules naming it by id go. */
export function policyWithout (policy: VpnPolicy | undefined, peer: string): VpnPolicy | undefined {
  if (policy == null) return undefined
  const groups = Object.fromEntries(Object.entries(policy.groups).map(([name, members]) => [name, members.filter((m) => m !== peer)]))
  return { groups, rules: policy.rules.filter((r) => r.from !== peer && r.to !== peer) }
}

/** Why a table's policy (from the wire) cannot be used, or undefined. */
export function checkPolicy (table: Partial<RoutingTable>): string | undefined {
  const policy = table.policy
  if (policy === undefined) return undefined
  if (typeof policy !== 'object' || policy == null || typeof policy.groups !== 'object' || policy.groups == null || !Array.isArray(policy.rules)) return 'bad policy'
  if (policy.rules.length > MAX_RULES || Object.keys(policy.groups).length > MAX_RULES) return 'policy too large'
  for (const [name, members] of Object.entries(policy.groups)) {
    if (!GROUP.test(name) || !Array.isArray(members) || members.some((m) => typeof m !== 'string' || !Object.hasOwn(table.members ?? {}, m))) return `bad group ${JSON.stringify(name.slice(0, 40))}`
  }
  for (const rule of policy.rules) {
    const problem = ruleProblem(table as RoutingTable, policy, rule)
    if (problem != null) return problem
  }
  return undefined
}

/** What one member lets in: per rule aimed at it, the senders' IPs and what they may open. Undefined when the policy is off. */
export interface InboundRule { from: string[], protocol: PolicyRule['protocol'], ports?: [number, number] }

export function inboundRules (table: Pick<RoutingTable, 'members' | 'policy'>, self: string): InboundRule[] | undefined {
  if (table.policy == null) return undefined
  return table.policy.rules
    .filter((rule) => membersOf(table, rule.to).includes(self))
    .map((rule): InboundRule => ({ from: membersOf(table, rule.from).filter((peer) => peer !== self).map((peer) => table.members[peer]!.ip), protocol: rule.protocol, ...(rule.ports != null ? { ports: rule.ports } : {}) }))
    .filter((rule) => rule.from.length > 0)
}
