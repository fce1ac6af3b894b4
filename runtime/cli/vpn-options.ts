import { UsageError } from './command.js'
import { countArg } from './arguments.js'
import { parsePeerId } from '../peer-id.js'
import type { VpnInit } from '../vpn/vpn-types.js'

/** Keys of a --config file's `vpn` object, each the `createVpn` option of that name. */
const VPN_KEYS = ['device', 'mtu', 'offload', 'acceptFrom', 'firewall', 'acceptPorts'] as const

/**
 * The `vpn` object of a --config file, checked for shape: unknown keys and values of the wrong
 * type are refused naming the key (ranges, device names and peer ids are `createVpn`'s to check).
 */
export function vpnFileOptions (value: unknown, path: string): VpnInit {
  if (value === undefined) return {}
  const bad = (what: string): never => { throw new UsageError(`--config ${path}: ${what}`) }
  if (value == null || typeof value !== 'object' || Array.isArray(value)) bad('vpn must be an object of VPN options')
  const given = value as Record<string, unknown>
  const unknown = Object.keys(given).filter((key) => !(VPN_KEYS as readonly string[]).includes(key))
  if (unknown.length > 0) bad(`unknown vpn option ${unknown.map((k) => JSON.stringify(k)).join(', ')} (known: ${VPN_KEYS.join(', ')})`)
  const options: VpnInit = {}
  if (given.device !== undefined) options.device = typeof given.device === 'string' ? given.device : bad('vpn.device must be a device name')
  if (given.mtu !== undefined) options.mtu = typeof given.mtu === 'number' ? given.mtu : bad('vpn.mtu must be a number of bytes')
  for (const key of ['offload', 'firewall', 'acceptPorts'] as const) {
    if (given[key] !== undefined) options[key] = typeof given[key] === 'boolean' ? given[key] : bad(`vpn.${key} must be true or false`)
  }
  const accept = given.acceptFrom
  if (accept !== undefined) {
    if (accept !== 'any' && !(Array.isArray(accept) && accept.every((peer) => typeof peer === 'string'))) bad('vpn.acceptFrom must be "any" or a list of peer ids')
    options.acceptFrom = acceptList(accept as string[] | 'any', 'vpn.acceptFrom', bad)
  }
  return options
}

/** "any" (alone or in the list) for anyone, else peer ids, each checked: a typo would accept nobody, silently. */
function acceptList (accept: string[] | 'any', name: string, bad: (what: string) => never): string[] | 'any' {
  if (accept === 'any' || accept.includes('any')) return 'any'
  for (const peer of accept) {
    try { parsePeerId(peer) } catch { bad(`${name}: ${JSON.stringify(peer).slice(0, 80)} is not a peer id`) }
  }
  return accept
}

/** The VPN flags of `dms-net node`, over the file's options: a flag given wins. */
export function vpnOptions (file: VpnInit, values: Record<string, unknown>): VpnInit {
  const accept = values['vpn-accept'] as string[] | undefined
  const flagError = (what: string): never => { throw new UsageError(what) }
  return {
    ...file,
    ...(accept != null ? { acceptFrom: acceptList(accept, '--vpn-accept', flagError) } : {}),
    ...(typeof values['vpn-device'] === 'string' ? { device: values['vpn-device'] } : {}),
    ...(values['vpn-mtu'] !== undefined ? { mtu: countArg('vpn-mtu', values['vpn-mtu'], 65535) } : {}), // the MTU's own range is createVpn's to say
    ...(values['vpn-no-offload'] === true ? { offload: false } : {}),
    ...(values['vpn-firewall'] === true ? { firewall: true } : {}),
    ...(values['vpn-accept-ports'] === true ? { acceptPorts: true } : {})
  }
}
