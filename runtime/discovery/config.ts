import type { DiscoveryConfig, DiscoveryInit } from '../../actors/discovery/discovery-config.js'
import { parseStunServer } from '../../actors/discovery/stun.js'

/** The option types live beside the actors that read them (actors/ never imports runtime/). */
export type { DiscoveryConfig, DiscoveryInit }

const DISCOVERY_KEYS: readonly string[] = ['dht', 'dhtPrefix', 'relayClient', 'relayServer', 'relayLimits', 'autonat', 'holePunching', 'stun', 'mdns', 'rendezvous', 'rendezvousIntervalMs', 'rendezvousMaxDials', 'announce'] satisfies ReadonlyArray<keyof DiscoveryInit>

/** Validate and fill defaults; problems are appended to `problems` (the config parser reports them together). */
export function parseDiscovery (init: DiscoveryInit | undefined, problems: string[]): DiscoveryConfig {
  const value = init ?? {}
  if (typeof value !== 'object' || Array.isArray(value)) {
    problems.push('discovery must be an object')
  }
  // a misspelt option (discovery.dth) must not be dropped silently: the node would run without it
  const unknown = typeof value === 'object' ? Object.keys(value).filter((key) => !DISCOVERY_KEYS.includes(key)) : []
  if (unknown.length > 0) problems.push(`unknown discovery option ${unknown.map((key) => JSON.stringify(key)).join(', ')} (known: ${DISCOVERY_KEYS.join(', ')})`)
  const limits = (value as { relayLimits?: unknown }).relayLimits
  if (limits !== undefined && (limits == null || typeof limits !== 'object' || Array.isArray(limits))) problems.push('discovery.relayLimits must be an object')
  const unknownLimits = limits != null && typeof limits === 'object' ? Object.keys(limits).filter((key) => !['maxReservations', 'durationMs', 'dataBytes'].includes(key)) : []
  if (unknownLimits.length > 0) problems.push(`unknown discovery.relayLimits option ${unknownLimits.map((key) => JSON.stringify(key)).join(', ')} (known: maxReservations, durationMs, dataBytes)`)
  const flag = (name: keyof DiscoveryInit, fallback: boolean): boolean => {
    const v = (value as Record<string, unknown>)[name]
    if (v === undefined) return fallback
    if (typeof v !== 'boolean') { problems.push(`discovery.${name} must be true or false (got ${JSON.stringify(v)})`); return fallback }
    return v
  }
  const limit = (name: 'maxReservations' | 'durationMs' | 'dataBytes', fallback: number): number => {
    const v = (value.relayLimits as Record<string, unknown> | undefined)?.[name]
    if (v === undefined) return fallback
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) { problems.push(`discovery.relayLimits.${name} must be a positive whole number (got ${JSON.stringify(v)})`); return fallback }
    return v
  }
  const count = (name: 'rendezvousIntervalMs' | 'rendezvousMaxDials', fallback: number, min: number, max: number): number => {
    const v = value[name]
    if (v === undefined) return fallback
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) { problems.push(`discovery.${name} must be a whole number from ${min} to ${max} (got ${JSON.stringify(v)})`); return fallback }
    return v
  }
  const rendezvous = value.rendezvous ?? ''
  const rendezvousOk = typeof rendezvous === 'string' && /^[\w.-]{0,64}$/.test(rendezvous)
  if (!rendezvousOk) problems.push(`discovery.rendezvous must be a name of letters, digits, '.', '_' or '-' (got ${JSON.stringify(rendezvous)})`)
  const announce = value.announce ?? []
  if (!Array.isArray(announce) || announce.some((a) => typeof a !== 'string' || !/^\/(ip4|ip6|dns4|dns6|dns)\//.test(a))) {
    problems.push(`discovery.announce must be a list of multiaddrs like /ip4/203.0.113.7/tcp/4001 (got ${JSON.stringify(announce)})`)
  }
  const prefix = value.dhtPrefix ?? '/dms'
  if (typeof prefix !== 'string' || !/^(\/[\w.-]+)+$/.test(prefix)) problems.push(`discovery.dhtPrefix must look like /dms or /dms/lan (got ${JSON.stringify(prefix)})`)
  const stun = value.stun ?? []
  const stunProblem = !Array.isArray(stun) ? 'not a list' : stun.map((s) => { try { parseStunServer(String(s)); return typeof s === 'string' ? '' : 'not a string' } catch (err) { return (err as Error).message } }).find((m) => m !== '')
  if (stunProblem != null) problems.push(`discovery.stun must be a list of host:port STUN servers (${stunProblem})`)
  const dht = flag('dht', false)
  const holePunching = flag('holePunching', false) || (Array.isArray(stun) && stun.length > 0)
  if (rendezvousOk && rendezvous !== '' && !dht) problems.push('discovery.rendezvous needs discovery.dht (the namespace is advertised in the DHT)')
  return {
    dht,
    dhtPrefix: typeof prefix === 'string' ? prefix : '/dms',
    relayClient: flag('relayClient', false) || holePunching,
    relayServer: flag('relayServer', false),
    relayLimits: { maxReservations: limit('maxReservations', 32), durationMs: limit('durationMs', 120_000), dataBytes: limit('dataBytes', 16 << 20) },
    autonat: flag('autonat', false),
    holePunching,
    mdns: flag('mdns', false),
    rendezvous: rendezvousOk ? rendezvous : '',
    rendezvousIntervalMs: count('rendezvousIntervalMs', 60_000, 1000, 86_400_000),
    rendezvousMaxDials: count('rendezvousMaxDials', 8, 1, 100),
    announce: Array.isArray(announce) ? announce.filter((a): a is string => typeof a === 'string') : [],
    stun: stunProblem == null ? stun : []
  }
}

