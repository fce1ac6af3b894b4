import { defaultGossipConfig } from '../actors/gossip-options.js'
import type { GossipConfig } from '../actors/gossip-options.js'
import { parseCidr } from '../actors/address-ranges.js'

/** Gossipsub tuning a caller may override (docs/protocols.md); everything else keeps the DMS defaults. */
export type PubsubInit = Partial<GossipConfig>

/** Validate and fill defaults; problems are appended to `problems` (the config parser reports them together). */
export function parsePubsub (init: PubsubInit | undefined, problems: string[]): GossipConfig {
  if (init === undefined) return defaultGossipConfig
  if (init == null || typeof init !== 'object' || Array.isArray(init)) {
    problems.push('pubsub must be an object')
    return defaultGossipConfig
  }
  const known = new Set(Object.keys(defaultGossipConfig))
  for (const key of Object.keys(init)) if (!known.has(key)) problems.push(`pubsub.${key} is not an option (known: ${[...known].join(', ')})`)
  const config = { ...defaultGossipConfig, ...init }
  if (!Array.isArray(config.colocationWhitelist) || config.colocationWhitelist.some((cidr) => typeof cidr !== 'string')) {
    problems.push('pubsub.colocationWhitelist must be a list of address ranges like 10.0.0.0/8')
    config.colocationWhitelist = defaultGossipConfig.colocationWhitelist
  } else {
    for (const cidr of config.colocationWhitelist) {
      try { parseCidr(cidr) } catch (err) { problems.push(`pubsub.colocationWhitelist: ${(err as Error).message}`) }
    }
  }
  if (typeof config.colocationThreshold !== 'number' || !Number.isInteger(config.colocationThreshold) || config.colocationThreshold < 1 || config.colocationThreshold > 100_000) {
    problems.push(`pubsub.colocationThreshold must be a whole number from 1 to 100000 (got ${JSON.stringify(config.colocationThreshold)})`)
  }
  if (typeof config.colocationWeight !== 'number' || !Number.isFinite(config.colocationWeight) || config.colocationWeight > 0) {
    problems.push(`pubsub.colocationWeight must be a number <= 0 (got ${JSON.stringify(config.colocationWeight)})`)
  }
  for (const flag of ['peerExchange', 'floodPublish'] as const) {
    if (typeof config[flag] !== 'boolean') problems.push(`pubsub.${flag} must be true or false (got ${JSON.stringify(config[flag])})`)
  }
  if (typeof config.meshDegree !== 'number' || !Number.isInteger(config.meshDegree) || config.meshDegree < 2 || config.meshDegree > 32) {
    problems.push(`pubsub.meshDegree must be a whole number from 2 to 32 (got ${JSON.stringify(config.meshDegree)})`)
  }
  return config
}
