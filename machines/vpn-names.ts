import type { RoutingTable } from './vpn-table.js'

/** The subnet's DNS domain when the leader names none. */
export const DEFAULT_DOMAIN = 'dms'
/** Records one table holds at most (members' labels and the DMS's own). */
export const MAX_NAMES = 1024

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/

/** Why a dotted name is not a valid DNS name, or undefined. */
function nameProblem (name: string): string | undefined {
  if (name.length === 0 || name.length > 253) return 'a name is 1 to 253 characters'
  const bad = name.split('.').find((label) => !LABEL.test(label))
  return bad == null ? undefined : `${JSON.stringify(bad)} is not a DNS label (letters, digits and inner hyphens, at most 63)`
}

/** Why `name` could be no name in any subnet (its spelling alone; the domain is the leader's to check), or undefined. */
export function nameSpellingProblem (name: string): string | undefined {
  return nameProblem(name.toLowerCase().replace(/\.$/, ''))
}

/** A domain for the subnet (`dms`, `corp.example`); throws a message naming the problem. */
export function checkDomain (domain: unknown): string {
  const text = typeof domain === 'string' ? domain.toLowerCase().replace(/\.$/, '') : ''
  const problem = typeof domain !== 'string' ? 'the domain must be a string' : nameProblem(text)
  if (problem != null || text.length > 200) throw new Error(`bad domain ${JSON.stringify(String(domain).slice(0, 80))}: ${problem ?? 'at most 200 characters'}`)
  return text
}

/** The domain a table's names live under. */
export const domainOf = (table: RoutingTable): string => table.domain ?? DEFAULT_DOMAIN

/**
 * A name as the table stores it: lower case, no trailing dot, inside the
 * domain (a bare label `b` becomes `b.dms`). Throws a message naming the problem.
 */
export function normaliseName (name: unknown, domain: string): string {
  if (typeof name !== 'string') throw new Error('a name must be a string')
  const lower = name.toLowerCase().replace(/\.$/, '')
  const full = lower.includes('.') ? lower : `${lower}.${domain}`
  const problem = nameProblem(full)
  if (problem != null) throw new Error(`bad name ${JSON.stringify(name.slice(0, 80))}: ${problem}`)
  if (!full.endsWith(`.${domain}`)) throw new Error(`${full} is outside the subnet's domain ${domain}`)
  return full
}

/** Add or move a record: `name` → `ip`, which must be a member's. The version grows by one. */
export function setName (table: RoutingTable, name: string, ip: string): RoutingTable {
  const full = normaliseName(name, domainOf(table))
  if (!Object.values(table.members).some((member) => member.ip === ip)) throw new Error(`${ip} is no member's address in this VPN`)
  const names = { ...table.names }
  if (names[full] === ip) return table
  if (names[full] == null && Object.keys(names).length >= MAX_NAMES) throw new Error(`the table holds at most ${MAX_NAMES} names`)
  names[full] = ip
  return { ...table, version: table.version + 1, names }
}

/** Remove a record. The version grows by one. Throws when there is no such name. */
export function removeName (table: RoutingTable, name: string): RoutingTable {
  const full = normaliseName(name, domainOf(table))
  if (table.names?.[full] == null) throw new Error(`no name ${full} in this VPN`)
  const { [full]: _, ...names } = table.names
  return { ...table, version: table.version + 1, names }
}

/** The records left once `ip` is no member's any more (a removed member's names go with it). */
export function namesWithout (names: Record<string, string> | undefined, ip: string): Record<string, string> | undefined {
  if (names == null) return undefined
  return Object.fromEntries(Object.entries(names).filter(([, to]) => to !== ip))
}

/** Why a table's names (from the wire) cannot be used, or undefined. */
export function checkNames (table: Partial<RoutingTable>, memberIps: Set<string>): string | undefined {
  let domain = DEFAULT_DOMAIN
  if (table.domain !== undefined) {
    try { domain = checkDomain(table.domain) } catch (err) { return (err as Error).message }
    if (domain !== table.domain) return 'the domain is not in canonical form'
  }
  if (table.names === undefined) return undefined
  if (typeof table.names !== 'object' || table.names == null || Array.isArray(table.names)) return 'bad names'
  const entries = Object.entries(table.names)
  if (entries.length > MAX_NAMES) return `more than ${MAX_NAMES} names`
  for (const [name, ip] of entries) {
    try {
      if (normaliseName(name, domain) !== name) return `name ${JSON.stringify(name.slice(0, 80))} is not in canonical form`
    } catch (err) { return (err as Error).message }
    if (typeof ip !== 'string' || !memberIps.has(ip)) return `name ${name} points at ${String(ip).slice(0, 40)}, no member's address`
  }
  return undefined
}
